#include "foxglove_protocol.hpp"

#include <nlohmann/json.hpp>

namespace shmsnap::serve::foxglove {
namespace {

using Json = nlohmann::json;

std::string dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool read_id(const Json& value, std::uint32_t& id) {
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() > UINT32_MAX) {
    return false;
  }
  id = static_cast<std::uint32_t>(value.get<std::uint64_t>());
  return true;
}

ClientMessage invalid(std::string problem) {
  ClientMessage message;
  message.kind = ClientMessage::Kind::invalid;
  message.problem = std::move(problem);
  return message;
}

}  // namespace

std::string server_info(std::string_view name, std::string_view session_id) {
  return dump(Json{{"op", "serverInfo"},
                   {"name", name},
                   {"capabilities", Json::array()},
                   {"supportedEncodings", Json::array({"json"})},
                   {"metadata", Json::object()},
                   {"sessionId", session_id}});
}

std::string advertise(const std::vector<Channel>& channels) {
  Json list = Json::array();
  for (const Channel& channel : channels) {
    list.push_back(Json{{"id", channel.id},
                        {"topic", channel.topic},
                        {"encoding", "json"},
                        {"schemaName", channel.schema_name},
                        {"schema", channel.schema},
                        {"schemaEncoding", "jsonschema"}});
  }
  return dump(Json{{"op", "advertise"}, {"channels", std::move(list)}});
}

std::string unadvertise(const std::vector<std::uint32_t>& channel_ids) {
  return dump(Json{{"op", "unadvertise"}, {"channelIds", channel_ids}});
}

std::string status(StatusLevel level, std::string_view message) {
  return dump(Json{{"op", "status"}, {"level", static_cast<int>(level)}, {"message", message}});
}

std::string message_data(std::uint32_t subscription_id, std::uint64_t timestamp_ns, std::string_view payload) {
  std::string frame;
  frame.reserve(1 + 4 + 8 + payload.size());
  frame.push_back('\x01');
  for (int byte = 0; byte < 4; ++byte) {
    frame.push_back(static_cast<char>((subscription_id >> (8 * byte)) & 0xFF));
  }
  for (int byte = 0; byte < 8; ++byte) {
    frame.push_back(static_cast<char>((timestamp_ns >> (8 * byte)) & 0xFF));
  }
  frame.append(payload);
  return frame;
}

ClientMessage parse_client_message(std::string_view text) noexcept {
  try {
    const Json value = Json::parse(text, nullptr, false);
    if (value.is_discarded() || !value.is_object()) {
      return invalid("not a JSON object");
    }
    const auto op = value.find("op");
    if (op == value.end() || !op->is_string()) {
      return invalid("no \"op\"");
    }
    const std::string& name = op->get_ref<const std::string&>();
    ClientMessage message;
    if (name == "subscribe") {
      const auto list = value.find("subscriptions");
      if (list == value.end() || !list->is_array() || list->size() > max_subscriptions_per_message) {
        return invalid("subscribe needs \"subscriptions\": an array of at most 1024 {id, channelId}");
      }
      for (const Json& entry : *list) {
        std::uint32_t id = 0;
        std::uint32_t channel = 0;
        if (!entry.is_object() || !entry.contains("id") || !entry.contains("channelId") || !read_id(entry["id"], id) ||
            !read_id(entry["channelId"], channel)) {
          return invalid("each subscription needs unsigned 32-bit \"id\" and \"channelId\"");
        }
        message.subscriptions.emplace_back(id, channel);
      }
      message.kind = ClientMessage::Kind::subscribe;
      return message;
    }
    if (name == "unsubscribe") {
      const auto list = value.find("subscriptionIds");
      if (list == value.end() || !list->is_array() || list->size() > max_subscriptions_per_message) {
        return invalid("unsubscribe needs \"subscriptionIds\": an array of at most 1024 ids");
      }
      for (const Json& entry : *list) {
        std::uint32_t id = 0;
        if (!read_id(entry, id)) {
          return invalid("subscription ids are unsigned 32-bit integers");
        }
        message.subscription_ids.push_back(id);
      }
      message.kind = ClientMessage::Kind::unsubscribe;
      return message;
    }
    message.kind = ClientMessage::Kind::unsupported;
    message.problem = "operation '" + name + "' is not supported by this read-only server";
    return message;
  } catch (...) {
    // Only allocation can throw here; report it like bad input.
    return invalid("message could not be processed");
  }
}

}  // namespace shmsnap::serve::foxglove
