// Snapshots above NATS' max_payload cross in chunks: the chunks go to their own
// keys first, then the value key gets an envelope flagged `chunked` whose payload
// is a manifest naming them. Every chunk carries its snapshot's id, so an importer
// that assembles a snapshot either gets all chunks of that one snapshot or
// abandons it (never a mix of two). Pure functions over bytes: callable from any
// thread; decoders never trust their input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace shmsnap::bridge {

/// Manifest (the payload of a chunked envelope), 32 bytes, little-endian:
///
///   offset size field
///        0    8 total_size   bytes of the snapshot: its used part, the schema's
///                             min_size..size (checked by the importer)
///        8    4 chunk_count  ceil(total_size / chunk_size)
///       12    4 chunk_size   bytes per chunk; the last one holds the rest
///       16    8 snapshot_id  the exporter's id of this snapshot (per key, grows)
///       24    4 slot         0 or 1: which set of chunk keys holds it
///       28    4 reserved     zero
///
/// The exporter alternates slots, so the chunks of the snapshot a manifest names
/// stay intact while the next one is written; only the one after overwrites them.
inline constexpr std::size_t manifest_size = 32;
/// Chunk value: a 32-byte header, then the chunk's bytes:
///
///   offset size field
///        0    4 magic        "SSBC"
///        4    2 version      chunk_version (1)
///        6    2 reserved     zero
///        8    8 snapshot_id  as in the manifest
///       16    4 index        0..chunk_count-1
///       20    4 chunk_count  as in the manifest
///       24    8 total_size   as in the manifest
///       32    n bytes        min(chunk_size, total_size - index * chunk_size)
inline constexpr std::size_t chunk_header_size = 32;
inline constexpr std::uint32_t chunk_magic = 0x43425353U;  // "SSBC" as bytes
inline constexpr std::uint16_t chunk_version = 1;
/// Most chunks of one snapshot, and the largest chunked snapshot: bounds on what
/// an importer fetches and holds for one manifest, whatever the bucket says.
inline constexpr std::uint32_t max_chunk_count = 65'536;
inline constexpr std::uint64_t max_chunked_size = 1ULL << 30;

struct ChunkManifest {
  std::uint64_t total_size = 0;
  std::uint32_t chunk_count = 0;
  std::uint32_t chunk_size = 0;
  std::uint64_t snapshot_id = 0;
  std::uint32_t slot = 0;
};

/// The manifest for a snapshot of `total_size` bytes cut into chunks of at most
/// `chunk_size`. nullopt when they exceed max_chunk_count or max_chunked_size, or
/// `chunk_size` is 0.
[[nodiscard]] std::optional<ChunkManifest> plan_chunks(std::uint64_t total_size, std::uint32_t chunk_size,
                                                       std::uint64_t snapshot_id, std::uint32_t slot);

/// The 32 bytes of `manifest`.
void encode_manifest(const ChunkManifest& manifest, std::vector<std::byte>& out);
/// Decodes and checks a manifest: sizes within the bounds above, a chunk count
/// that matches total and chunk size, slot 0 or 1, reserved zero. nullopt and `why`.
[[nodiscard]] std::optional<ChunkManifest> decode_manifest(std::span<const std::byte> value, std::string& why);

/// Offset and length of chunk `index` of `manifest` (index < chunk_count).
struct ChunkExtent {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};
[[nodiscard]] ChunkExtent chunk_extent(const ChunkManifest& manifest, std::uint32_t index) noexcept;

/// Chunk `index` of `snapshot` (manifest.total_size bytes) as a chunk value in `out`.
void encode_chunk(const ChunkManifest& manifest, std::uint32_t index, std::span<const std::byte> snapshot,
                  std::vector<std::byte>& out);
/// The bytes of chunk `index` of `manifest` in `value`, checked against the
/// manifest (same snapshot id, index, count and total; exact length). nullopt and
/// `why` otherwise: a chunk of another snapshot means the exporter moved on.
[[nodiscard]] std::optional<std::span<const std::byte>> decode_chunk(std::span<const std::byte> value,
                                                                     const ChunkManifest& manifest, std::uint32_t index,
                                                                     std::string& why);

/// "K/c<slot>.<index>": the key of one chunk of the value under `key` (a '/', like
/// the schema key, so it never collides with a value key).
[[nodiscard]] std::string chunk_key(std::string_view key, std::uint32_t slot, std::uint32_t index);

}  // namespace shmsnap::bridge
