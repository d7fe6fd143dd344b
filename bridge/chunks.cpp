// Chunk manifest and chunk codecs; see chunks.hpp for the layouts.
#include "chunks.hpp"

#include <cstring>

#include <fmt/format.h>

namespace shmsnap::bridge {
namespace {

template <class Integer>
void store(std::byte* at, Integer value) noexcept {
  for (std::size_t index = 0; index < sizeof(Integer); ++index) {
    at[index] = static_cast<std::byte>((static_cast<std::uint64_t>(value) >> (8 * index)) & 0xFFU);
  }
}

template <class Integer>
Integer load(const std::byte* at) noexcept {
  std::uint64_t value = 0;
  for (std::size_t index = 0; index < sizeof(Integer); ++index) {
    value |= static_cast<std::uint64_t>(at[index]) << (8 * index);
  }
  return static_cast<Integer>(value);
}

// ceil(total / chunk) without the overflow of total + chunk - 1. chunk > 0.
std::uint64_t chunks_for(std::uint64_t total, std::uint64_t chunk) noexcept {
  return total / chunk + (total % chunk != 0 ? 1 : 0);
}

}  // namespace

std::optional<ChunkManifest> plan_chunks(std::uint64_t total_size, std::uint32_t chunk_size, std::uint64_t snapshot_id,
                                         std::uint32_t slot) {
  if (chunk_size == 0 || total_size == 0 || total_size > max_chunked_size ||
      chunks_for(total_size, chunk_size) > max_chunk_count || slot > 1) {
    return std::nullopt;
  }
  return ChunkManifest{.total_size = total_size,
                       .chunk_count = static_cast<std::uint32_t>(chunks_for(total_size, chunk_size)),
                       .chunk_size = chunk_size,
                       .snapshot_id = snapshot_id,
                       .slot = slot};
}

void encode_manifest(const ChunkManifest& manifest, std::vector<std::byte>& out) {
  out.assign(manifest_size, std::byte{0});
  store<std::uint64_t>(out.data() + 0, manifest.total_size);
  store<std::uint32_t>(out.data() + 8, manifest.chunk_count);
  store<std::uint32_t>(out.data() + 12, manifest.chunk_size);
  store<std::uint64_t>(out.data() + 16, manifest.snapshot_id);
  store<std::uint32_t>(out.data() + 24, manifest.slot);
}

std::optional<ChunkManifest> decode_manifest(std::span<const std::byte> value, std::string& why) {
  if (value.size() != manifest_size) {
    why = fmt::format("chunk manifest of {} bytes (must be {})", value.size(), manifest_size);
    return std::nullopt;
  }
  ChunkManifest manifest{.total_size = load<std::uint64_t>(value.data()),
                         .chunk_count = load<std::uint32_t>(value.data() + 8),
                         .chunk_size = load<std::uint32_t>(value.data() + 12),
                         .snapshot_id = load<std::uint64_t>(value.data() + 16),
                         .slot = load<std::uint32_t>(value.data() + 24)};
  if (load<std::uint32_t>(value.data() + 28) != 0 || manifest.slot > 1) {
    why = fmt::format("chunk manifest slot {} (0 or 1) or reserved bits set", manifest.slot);
    return std::nullopt;
  }
  if (manifest.chunk_size == 0 || manifest.total_size == 0 || manifest.total_size > max_chunked_size ||
      manifest.chunk_count == 0 || manifest.chunk_count > max_chunk_count) {
    why =
        fmt::format("chunk manifest of {} bytes in {} chunks of {}: outside 1..{} bytes, 1..{} chunks",
                    manifest.total_size, manifest.chunk_count, manifest.chunk_size, max_chunked_size, max_chunk_count);
    return std::nullopt;
  }
  if (chunks_for(manifest.total_size, manifest.chunk_size) != manifest.chunk_count) {
    why = fmt::format("chunk manifest: {} bytes in chunks of {} are not {} chunks", manifest.total_size,
                      manifest.chunk_size, manifest.chunk_count);
    return std::nullopt;
  }
  return manifest;
}

ChunkExtent chunk_extent(const ChunkManifest& manifest, std::uint32_t index) noexcept {
  // index < chunk_count <= 2^16 and chunk_size < 2^32: the product fits in 64 bits,
  // and a checked manifest keeps it below total_size.
  const std::uint64_t offset = std::uint64_t{index} * manifest.chunk_size;
  if (offset >= manifest.total_size) {
    return {.offset = manifest.total_size, .length = 0};
  }
  return {.offset = offset, .length = std::min<std::uint64_t>(manifest.chunk_size, manifest.total_size - offset)};
}

void encode_chunk(const ChunkManifest& manifest, std::uint32_t index, std::span<const std::byte> snapshot,
                  std::vector<std::byte>& out) {
  const ChunkExtent extent = chunk_extent(manifest, index);
  out.assign(chunk_header_size + extent.length, std::byte{0});
  store<std::uint32_t>(out.data() + 0, chunk_magic);
  store<std::uint16_t>(out.data() + 4, chunk_version);
  store<std::uint64_t>(out.data() + 8, manifest.snapshot_id);
  store<std::uint32_t>(out.data() + 16, index);
  store<std::uint32_t>(out.data() + 20, manifest.chunk_count);
  store<std::uint64_t>(out.data() + 24, manifest.total_size);
  if (extent.length > 0 && extent.offset + extent.length <= snapshot.size()) {
    std::memcpy(out.data() + chunk_header_size, snapshot.data() + extent.offset, extent.length);
  }
}

std::optional<std::span<const std::byte>> decode_chunk(std::span<const std::byte> value, const ChunkManifest& manifest,
                                                       std::uint32_t index, std::string& why) {
  if (value.size() < chunk_header_size) {
    why = fmt::format("chunk {} of {} bytes, shorter than its {}-byte header", index, value.size(), chunk_header_size);
    return std::nullopt;
  }
  const std::byte* base = value.data();
  if (load<std::uint32_t>(base) != chunk_magic || load<std::uint16_t>(base + 4) != chunk_version ||
      load<std::uint16_t>(base + 6) != 0) {
    why = fmt::format("chunk {}: bad magic, version or reserved bits", index);
    return std::nullopt;
  }
  const auto snapshot_id = load<std::uint64_t>(base + 8);
  if (snapshot_id != manifest.snapshot_id || load<std::uint32_t>(base + 16) != index ||
      load<std::uint32_t>(base + 20) != manifest.chunk_count || load<std::uint64_t>(base + 24) != manifest.total_size) {
    why = fmt::format("chunk {} belongs to snapshot {}, not {} (the exporter moved on)", index, snapshot_id,
                      manifest.snapshot_id);
    return std::nullopt;
  }
  const ChunkExtent extent = chunk_extent(manifest, index);
  if (index >= manifest.chunk_count || value.size() - chunk_header_size != extent.length) {
    why = fmt::format("chunk {} holds {} bytes, the manifest says {}", index, value.size() - chunk_header_size,
                      extent.length);
    return std::nullopt;
  }
  return value.subspan(chunk_header_size);
}

std::string chunk_key(std::string_view key, std::uint32_t slot, std::uint32_t index) {
  return fmt::format("{}/c{}.{}", key, slot, index);
}

}  // namespace shmsnap::bridge
