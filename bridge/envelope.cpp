// Envelope and schema record codecs; see envelope.hpp for the layout.
#include "envelope.hpp"

#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/schema.hpp"
#include "shmsnap/schema_json.hpp"

namespace shmsnap::bridge {
namespace {

constexpr std::string_view schema_format = "shmsnap-bridge-schema/1";

// Byte-wise little-endian stores and loads: the wire format does not depend on
// the host's byte order or on the alignment of the value buffer.
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

}  // namespace

void encode_envelope(const Envelope& envelope, std::vector<std::byte>& out) {
  const std::size_t host_length = std::min(envelope.origin_host.size(), max_host_length);
  out.assign(envelope_header_size + host_length + envelope.payload.size(), std::byte{0});
  std::byte* base = out.data();
  store<std::uint32_t>(base + 0, envelope_magic);
  store<std::uint16_t>(base + 4, envelope_version);
  store<std::uint16_t>(base + 6, envelope.flags);
  store<std::uint64_t>(base + 8, envelope.epoch);
  store<std::uint64_t>(base + 16, envelope.seq);
  store<std::int64_t>(base + 24, envelope.publish_time_ns);
  store<std::int64_t>(base + 32, envelope.sent_time_ns);
  store<std::uint64_t>(base + 40, envelope.fingerprint);
  store<std::uint32_t>(base + 48, static_cast<std::uint32_t>(envelope.payload.size()));
  store<std::uint32_t>(base + 52, envelope.heartbeat_ms);
  store<std::uint32_t>(base + 56, envelope.origin_pid);
  store<std::uint16_t>(base + 60, static_cast<std::uint16_t>(host_length));
  if (host_length > 0) {
    std::memcpy(base + envelope_header_size, envelope.origin_host.data(), host_length);
  }
  if (!envelope.payload.empty()) {
    std::memcpy(base + envelope_header_size + host_length, envelope.payload.data(), envelope.payload.size());
  }
}

std::optional<Envelope> decode_envelope(std::span<const std::byte> value, std::string& why) {
  if (value.size() < envelope_header_size) {
    why = fmt::format("{} bytes, shorter than the {}-byte envelope header", value.size(), envelope_header_size);
    return std::nullopt;
  }
  const std::byte* base = value.data();
  if (load<std::uint32_t>(base) != envelope_magic) {
    why = "bad magic (not a shmsnap-bridge value)";
    return std::nullopt;
  }
  const auto version = load<std::uint16_t>(base + 4);
  if (version != envelope_version) {
    why = fmt::format("envelope version {} (this bridge reads {}); upgrade the older side", version, envelope_version);
    return std::nullopt;
  }
  Envelope envelope;
  envelope.flags = load<std::uint16_t>(base + 6);
  if ((envelope.flags & ~known_flags) != 0 || load<std::uint16_t>(base + 62) != 0) {
    why = fmt::format("unknown flags 0x{:x} or reserved bits set", envelope.flags);
    return std::nullopt;
  }
  envelope.epoch = load<std::uint64_t>(base + 8);
  envelope.seq = load<std::uint64_t>(base + 16);
  envelope.publish_time_ns = load<std::int64_t>(base + 24);
  envelope.sent_time_ns = load<std::int64_t>(base + 32);
  envelope.fingerprint = load<std::uint64_t>(base + 40);
  const auto payload_size = load<std::uint32_t>(base + 48);
  envelope.heartbeat_ms = load<std::uint32_t>(base + 52);
  envelope.origin_pid = load<std::uint32_t>(base + 56);
  const auto host_length = load<std::uint16_t>(base + 60);
  if (envelope.heartbeat_ms < min_heartbeat_ms || envelope.heartbeat_ms > max_heartbeat_ms) {
    why = fmt::format("heartbeat_ms {} outside {}..{} (such a value could never go stale)", envelope.heartbeat_ms,
                      min_heartbeat_ms, max_heartbeat_ms);
    return std::nullopt;
  }
  if (host_length > max_host_length) {
    why = fmt::format("origin host length {} exceeds {}", host_length, max_host_length);
    return std::nullopt;
  }
  // 64-bit arithmetic: no sum of these fields can wrap.
  const std::uint64_t expected = std::uint64_t{envelope_header_size} + host_length + payload_size;
  if (expected != value.size()) {
    why = fmt::format("length {} differs from header {} + host {} + payload {}", value.size(), envelope_header_size,
                      host_length, payload_size);
    return std::nullopt;
  }
  envelope.origin_host = std::string_view(reinterpret_cast<const char*>(base + envelope_header_size), host_length);
  envelope.payload = value.subspan(envelope_header_size + host_length, payload_size);
  return envelope;
}

std::string encode_schema_record(const SchemaRecord& record) {
  const nlohmann::json json{{"format", schema_format},   {"name", record.name},
                            {"version", record.version}, {"fingerprint", fmt::format("{:016x}", record.fingerprint)},
                            {"size", record.size},       {"descriptor", record.descriptor}};
  return json.dump();
}

std::optional<SchemaRecord> decode_schema_record(std::span<const std::byte> value, std::string& why) {
  const std::string_view text(reinterpret_cast<const char*>(value.data()), value.size());
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    why = "schema record is not a JSON object";
    return std::nullopt;
  }
  const auto string_at = [&json](const char* name) -> const std::string* {
    const auto found = json.find(name);
    return found != json.end() && found->is_string() ? found->get_ptr<const std::string*>() : nullptr;
  };
  const auto unsigned_at = [&json](const char* name) -> std::optional<std::uint64_t> {
    const auto found = json.find(name);
    if (found == json.end() || !found->is_number_unsigned()) {
      return std::nullopt;
    }
    return found->get<std::uint64_t>();
  };
  const std::string* format = string_at("format");
  const std::string* name = string_at("name");
  const std::string* fingerprint = string_at("fingerprint");
  const std::string* descriptor = string_at("descriptor");
  const auto version = unsigned_at("version");
  const auto size = unsigned_at("size");
  if (format == nullptr || *format != schema_format) {
    why = fmt::format("schema record format is not '{}'", schema_format);
    return std::nullopt;
  }
  if (name == nullptr || fingerprint == nullptr || descriptor == nullptr || !version || !size ||
      *version > UINT32_MAX || fingerprint->size() != 16 ||
      fingerprint->find_first_not_of("0123456789abcdef") != std::string::npos) {
    why = "schema record lacks name, version, fingerprint (16 hex digits), size or descriptor";
    return std::nullopt;
  }
  SchemaRecord record{.name = *name,
                      .version = static_cast<std::uint32_t>(*version),
                      .fingerprint = std::stoull(*fingerprint, nullptr, 16),
                      .size = static_cast<std::size_t>(*size),
                      .descriptor = *descriptor};
  try {
    const SnapshotCodec codec(record.descriptor);
    if (codec.size() != record.size || codec.name() != record.name) {
      why = fmt::format("schema record says {} ({} bytes) but its descriptor describes {} ({} bytes)", record.name,
                        record.size, codec.name(), codec.size());
      return std::nullopt;
    }
    record.min_size = codec.min_size();
  } catch (const Error& error) {
    why = std::string("schema record descriptor is invalid: ") + error.what();
    return std::nullopt;
  }
  // The record's fingerprint is a claim from the bucket: the local topic is created
  // with it, and typed readers trust it over the descriptor, so it must be the
  // descriptor's own (a descriptor need not repeat it for the parser to check).
  const std::string mismatch = schema_fingerprint_mismatch(SchemaInfo{.name = record.name,
                                                                      .version = record.version,
                                                                      .fingerprint = record.fingerprint,
                                                                      .size = record.size,
                                                                      .descriptor = record.descriptor});
  if (!mismatch.empty()) {
    why = "schema record refused: " + mismatch;
    return std::nullopt;
  }
  return record;
}

void validate_key(std::string_view key) {
  validate_name("Key-Value key", key, max_key_length);
  if (key.front() == '.' || key.back() == '.' || key.find("..") != std::string_view::npos) {
    throw Error(Errc::invalid_argument,
                fmt::format("Key-Value key '{}' has an empty token: NATS keys may not start or end with '.' nor hold "
                            "'..'; use e.g. 'host1.quotes'",
                            key));
  }
}

std::string schema_key(std::string_view key) {
  return std::string(key) + "/schema";
}

}  // namespace shmsnap::bridge
