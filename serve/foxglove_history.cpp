#include "foxglove_history.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string_view>

namespace shmsnap::serve::foxglove {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::int64_t ns_per_ms = 1'000'000;
// A message-data frame's payload header: opcode, subscription id, timestamp.
constexpr std::size_t message_data_header_bytes = 1 + 4 + 8;

enum class Kind { boolean, signed_integer, unsigned_integer, number };

struct ReplayedField {
  std::vector<std::string> path;  // "pose.x" -> {"pose", "x"}
  Kind kind = Kind::number;
  const Json* points = nullptr;
};

std::vector<std::string> split_path(std::string_view dotted) {
  std::vector<std::string> keys;
  while (true) {
    const auto dot = dotted.find('.');
    keys.emplace_back(dotted.substr(0, dot));
    if (dot == std::string_view::npos) {
      return keys;
    }
    dotted.remove_prefix(dot + 1);
  }
}

// How `current` types the leaf at `path`, or nothing when it has no scalar there.
std::optional<Kind> kind_at(const Json& current, const std::vector<std::string>& path) {
  const Json* node = &current;
  for (const std::string& key : path) {
    if (!node->is_object()) {
      return std::nullopt;
    }
    const auto member = node->find(key);
    if (member == node->end()) {
      return std::nullopt;
    }
    node = &*member;
  }
  if (node->is_boolean()) {
    return Kind::boolean;
  }
  if (node->is_number_unsigned()) {
    return Kind::unsigned_integer;
  }
  if (node->is_number_integer()) {
    return Kind::signed_integer;
  }
  if (node->is_number()) {
    return Kind::number;
  }
  return std::nullopt;
}

// `sample` written as the field's type; nothing when it cannot be (out of range).
std::optional<Json> typed(double sample, Kind kind) {
  switch (kind) {
    case Kind::boolean:
      return Json(sample != 0.0);
    case Kind::signed_integer:
      // 2^63 is exactly representable; anything at or above it does not fit.
      if (sample < -9.2233720368547758e18 || sample >= 9.2233720368547758e18) {
        return std::nullopt;
      }
      return Json(static_cast<std::int64_t>(std::llround(sample)));
    case Kind::unsigned_integer:
      if (sample < 0 || sample >= 1.8446744073709552e19) {
        return std::nullopt;
      }
      return Json(static_cast<std::uint64_t>(std::round(sample)));
    case Kind::number:
      return Json(sample);
  }
  return std::nullopt;
}

// The recorded fields that `current` still has, with their points.
std::vector<ReplayedField> replayable_fields(const Json& history, const Json& current) {
  std::vector<ReplayedField> fields;
  const auto listed = history.find("fields");
  if (listed == history.end() || !listed->is_array()) {
    return fields;
  }
  for (const Json& entry : *listed) {
    if (!entry.is_object() || !entry.contains("field") || !entry["field"].is_string() || !entry.contains("points") ||
        !entry["points"].is_array()) {
      continue;
    }
    ReplayedField field;
    field.path = split_path(entry["field"].get_ref<const std::string&>());
    const std::optional<Kind> kind = kind_at(current, field.path);
    if (!kind) {
      continue;
    }
    field.kind = *kind;
    field.points = &entry["points"];
    fields.push_back(std::move(field));
  }
  return fields;
}

void set_at(Json& message, const std::vector<std::string>& path, Json leaf) {
  Json* node = &message;
  for (std::size_t depth = 0; depth + 1 < path.size(); ++depth) {
    node = &(*node)[path[depth]];
  }
  (*node)[path.back()] = std::move(leaf);
}

// Every other message, counting back from the newest (which is always kept).
std::vector<ReplayedMessage> every_other(const std::vector<ReplayedMessage>& messages) {
  std::vector<ReplayedMessage> kept;
  for (std::size_t index = 0; index < messages.size(); ++index) {
    if ((messages.size() - 1 - index) % 2 == 0) {
      kept.push_back(messages[index]);
    }
  }
  return kept;
}

std::size_t total_bytes(const std::vector<ReplayedMessage>& messages) {
  std::size_t total = 0;
  for (const ReplayedMessage& message : messages) {
    total += message_data_header_bytes + message.json.size();
  }
  return total;
}

}  // namespace

std::vector<ReplayedMessage> history_messages(const Json& history, const Json& current, std::int64_t before_wall_ns,
                                              std::size_t byte_budget) {
  if (!history.is_object() || history.value("resolution", std::string()) != "sample" || !current.is_object()) {
    return {};
  }
  // One message per sampling instant, in time order; each field adds its leaf.
  std::map<std::int64_t, Json> by_time;
  for (const ReplayedField& field : replayable_fields(history, current)) {
    for (const Json& point : *field.points) {
      if (!point.is_array() || point.size() != 2 || !point[0].is_number_integer() || !point[1].is_number()) {
        continue;  // a gap (NaN or infinity was recorded as null)
      }
      const auto wall_ms = point[0].get<std::int64_t>();
      if (wall_ms <= 0 || wall_ms > std::numeric_limits<std::int64_t>::max() / ns_per_ms ||
          wall_ms * ns_per_ms >= before_wall_ns) {
        continue;
      }
      if (std::optional<Json> leaf = typed(point[1].get<double>(), field.kind)) {
        set_at(by_time[wall_ms], field.path, std::move(*leaf));
      }
    }
  }
  std::vector<ReplayedMessage> messages;
  messages.reserve(by_time.size());
  for (const auto& [wall_ms, message] : by_time) {
    messages.push_back(ReplayedMessage{static_cast<std::uint64_t>(wall_ms * ns_per_ms),
                                       message.dump(-1, ' ', false, Json::error_handler_t::replace)});
  }
  // Halve until the replay fits the budget: ends within log2(n) + 1 steps.
  while (!messages.empty() && total_bytes(messages) > byte_budget) {
    messages = messages.size() == 1 ? std::vector<ReplayedMessage>{} : every_other(messages);
  }
  return messages;
}

}  // namespace shmsnap::serve::foxglove
