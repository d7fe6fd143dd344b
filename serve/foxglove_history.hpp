// Foxglove history replay: when a Foxglove client subscribes to a topic, the server
// first sends the last minute of the topic's numeric fields (FieldHistory's fine
// ring) as messages stamped with the times they were sampled, so Foxglove's first
// view of a plot shows the minute before it was opened, as the dashboard does.
// A replayed message is a partial value: the numeric and boolean fields that were
// recorded, typed as the current value types them; strings and arrays are left
// out rather than filled in with today's values. Pure functions: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace shmsnap::serve::foxglove {

struct ReplayedMessage {
  std::uint64_t timestamp_ns = 0;  // wall clock, as Foxglove's timeline reads it
  std::string json;
};

/// The messages that replay `history` (FieldHistory::to_json at sample resolution),
/// oldest first, for points strictly before `before_wall_ns` (the current value's
/// publish time, which the live stream sends next). `current` is the topic's current
/// decoded value: a recorded field it does not have (the schema changed) is left out,
/// and its type there decides how the field is written (boolean, integer or number).
/// When the message-data frames (header and JSON) would exceed `byte_budget` in all,
/// every other point is dropped until they fit (the newest is kept longest), so a
/// client's bounded send buffer is never overrun.
[[nodiscard]] std::vector<ReplayedMessage> history_messages(const nlohmann::ordered_json& history,
                                                            const nlohmann::ordered_json& current,
                                                            std::int64_t before_wall_ns, std::size_t byte_budget);

}  // namespace shmsnap::serve::foxglove
