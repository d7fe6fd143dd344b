// The wire format of shmsnap-bridge: one Key-Value value per refresh of a topic
// (a fixed little-endian header, the origin host name, then the raw snapshot
// bytes), and the schema record stored under the topic's schema key. Pure
// functions over bytes: callable from any thread; decoders never trust their input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace shmsnap::bridge {

/// Envelope layout (all integers little-endian), 64 bytes + host + payload:
///
///   offset size field
///        0    4 magic            "SSBR" (0x53 0x53 0x42 0x52)
///        4    2 version          envelope_version (1)
///        6    2 flags            EnvelopeFlag bits
///        8    8 epoch            origin publisher's epoch
///       16    8 seq              origin publish sequence (restarts with each epoch)
///       24    8 publish_time_ns  CLOCK_REALTIME of the origin publish
///       32    8 sent_time_ns     CLOCK_REALTIME when the exporter put this value
///       40    8 fingerprint      schema fingerprint of the payload
///       48    4 payload_size     bytes of payload: the snapshot's used part, the
///                                  schema's min_size..size (a bounded sequence's
///                                  elements in use; otherwise the whole size)
///       52    4 heartbeat_ms     the exporter's heartbeat period (staleness = 3x),
///                                  min_heartbeat_ms..max_heartbeat_ms
///       56    4 origin_pid       pid of the origin publisher
///       60    2 host_length      bytes of origin host name that follow (<= 255)
///       62    2 reserved         zero
///       64    H origin host      not NUL-terminated
///     64+H    P payload          the raw snapshot bytes, its used part only
///
/// The value's length must be exactly 64 + H + P.
inline constexpr std::uint32_t envelope_magic = 0x52425353U;  // "SSBR" as bytes
inline constexpr std::uint16_t envelope_version = 1;
inline constexpr std::size_t envelope_header_size = 64;
inline constexpr std::size_t max_host_length = 255;
/// The heartbeat periods an exporter may use and an importer accepts: a value
/// claiming 0 (or days) would keep an imported topic from ever going stale.
inline constexpr std::uint32_t min_heartbeat_ms = 10;
inline constexpr std::uint32_t max_heartbeat_ms = 3'600'000;

/// Bits of Envelope::flags.
enum EnvelopeFlag : std::uint16_t {
  flag_heartbeat = 1U << 0,         ///< a re-put of the last value to prove liveness; not a new publish
  flag_origin_stale = 1U << 1,      ///< the origin publisher is gone; the payload is its last state
  flag_exporter_stopped = 1U << 2,  ///< the exporter shut down cleanly; the payload is the last state
  flag_chunked = 1U << 3,           ///< the payload is a chunk manifest (chunks.hpp), not the snapshot
};
inline constexpr std::uint16_t known_flags = flag_heartbeat | flag_origin_stale | flag_exporter_stopped | flag_chunked;

/// One decoded (or to be encoded) value. `payload` views the caller's bytes.
struct Envelope {
  std::uint16_t flags = 0;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  std::int64_t publish_time_ns = 0;
  std::int64_t sent_time_ns = 0;
  std::uint64_t fingerprint = 0;
  std::uint32_t heartbeat_ms = 0;
  std::uint32_t origin_pid = 0;
  std::string_view origin_host;
  std::span<const std::byte> payload;

  /// True when the value says its origin is no longer live (lost or exporter stopped).
  [[nodiscard]] bool origin_gone() const noexcept { return (flags & (flag_origin_stale | flag_exporter_stopped)) != 0; }
};

/// Appends the encoded envelope to `out` (cleared first). The host is cut to
/// max_host_length bytes.
void encode_envelope(const Envelope& envelope, std::vector<std::byte>& out);

/// Decodes `value`. On failure (including a heartbeat_ms outside min_heartbeat_ms..
/// max_heartbeat_ms) returns nullopt and sets `why` (what is wrong, for the
/// rate-limited refusal log). The result's views point into `value`.
[[nodiscard]] std::optional<Envelope> decode_envelope(std::span<const std::byte> value, std::string& why);

/// What the importer needs to create a local topic: stored as JSON under the
/// schema key, {"format":"shmsnap-bridge-schema/1","name","version","fingerprint"
/// (16 hex digits),"size","descriptor"}.
struct SchemaRecord {
  std::string name;
  std::uint32_t version = 0;
  std::uint64_t fingerprint = 0;
  std::size_t size = 0;
  std::string descriptor;
  /// Not on the wire: the descriptor's SnapshotCodec::min_size(), set by
  /// decode_schema_record. A payload of min_size..size bytes is a snapshot's used part.
  std::size_t min_size = 0;
};

/// The JSON text of `record`.
[[nodiscard]] std::string encode_schema_record(const SchemaRecord& record);

/// Parses a schema record and checks that its descriptor is a valid one whose name
/// and size agree with the record. nullopt and `why` on failure.
[[nodiscard]] std::optional<SchemaRecord> decode_schema_record(std::span<const std::byte> value, std::string& why);

/// Longest Key-Value key a bridge accepts.
inline constexpr std::size_t max_key_length = 200;

/// Throws shmsnap::Error (invalid_argument) unless `key` uses [A-Za-z0-9_.-], is at
/// most max_key_length long and has no empty dot-separated token (NATS subjects
/// forbid them).
void validate_key(std::string_view key);

/// The schema record's key for a topic's value key: "<key>/schema". Topic keys use
/// the shmsnap name charset [A-Za-z0-9_.-], which has no '/', so the two can never
/// collide.
[[nodiscard]] std::string schema_key(std::string_view key);

}  // namespace shmsnap::bridge
