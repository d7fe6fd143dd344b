// The Foxglove WebSocket protocol (subprotocol foxglove.websocket.v1), server side:
// the JSON and binary messages this server sends, and a parser for what a client
// may send. Pure functions that never throw on client input; any thread.
// Reference: github.com/foxglove/ws-protocol, docs/spec.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shmsnap::serve::foxglove {

/// The subprotocol a client must offer.
inline constexpr std::string_view subprotocol = "foxglove.websocket.v1";
/// Most subscriptions (or ids) one client message may carry; more is refused.
inline constexpr std::size_t max_subscriptions_per_message = 1024;

/// A channel as advertised: one shmsnap topic, JSON-encoded, described by a JSON Schema.
struct Channel {
  std::uint32_t id = 0;
  std::string topic;
  std::string schema_name;
  std::string schema;  ///< JSON Schema text
};

enum class StatusLevel { info = 0, warning = 1, error = 2 };

/// {"op":"serverInfo",...}: no capabilities (read-only), JSON encoding.
[[nodiscard]] std::string server_info(std::string_view name, std::string_view session_id);
/// {"op":"advertise","channels":[...]} with encoding "json", schemaEncoding "jsonschema".
[[nodiscard]] std::string advertise(const std::vector<Channel>& channels);
/// {"op":"unadvertise","channelIds":[...]}.
[[nodiscard]] std::string unadvertise(const std::vector<std::uint32_t>& channel_ids);
/// {"op":"status","level":L,"message":M}.
[[nodiscard]] std::string status(StatusLevel level, std::string_view message);
/// Binary "message data": opcode 1, subscription id (u32 LE), timestamp ns (u64 LE), payload.
[[nodiscard]] std::string message_data(std::uint32_t subscription_id, std::uint64_t timestamp_ns,
                                       std::string_view payload);

/// A parsed client text message.
struct ClientMessage {
  enum class Kind { subscribe, unsubscribe, unsupported, invalid };
  Kind kind = Kind::invalid;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> subscriptions;  ///< subscribe: (subscription id, channel id)
  std::vector<std::uint32_t> subscription_ids;                         ///< unsubscribe
  std::string problem;  ///< unsupported/invalid: what was wrong, for a status message
};

/// Parses one client text frame. Never throws; bounded work for any input.
[[nodiscard]] ClientMessage parse_client_message(std::string_view text) noexcept;

}  // namespace shmsnap::serve::foxglove
