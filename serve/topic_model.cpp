#include "topic_model.hpp"

namespace shmsnap::serve {
namespace {

using Json = nlohmann::ordered_json;

Json optional_number(const std::optional<double>& value) {
  return value ? Json(*value) : Json(nullptr);
}

}  // namespace

const TopicState* ModelSnapshot::find(const std::string& name) const noexcept {
  for (const TopicState& topic : topics) {
    if (topic.name == name) {
      return &topic;
    }
  }
  return nullptr;
}

Json summary_json(const TopicState& topic) {
  Json subscribers = Json::array();
  for (const SubscriberState& row : topic.subscribers) {
    subscribers.push_back(Json{{"id", row.id},
                               {"pid", row.pid},
                               {"alive", row.alive},
                               {"notified", row.notified},
                               {"coalesced", row.coalesced}});
  }
  return Json{{"topic", topic.name},
              {"region", topic.region},
              {"valid", topic.valid},
              {"problem", topic.problem},
              {"schema", topic.schema_name},
              {"schema_version", topic.schema_version},
              {"publisher_pid", topic.publisher_pid},
              {"publisher_up", topic.publisher_up},
              {"stale", topic.stale},
              {"epoch", topic.epoch},
              {"seq", topic.seq},
              {"published_total", topic.published_total},
              {"coalesced_total", topic.coalesced_total},
              {"notified_total", topic.notified_total},
              {"publish_rate_hz", topic.publish_rate_hz},
              {"publish_rate_window_seconds", topic.publish_rate_window_seconds},
              {"snapshot_age_seconds", optional_number(topic.snapshot_age_seconds)},
              {"heartbeat_age_seconds", optional_number(topic.heartbeat_age_seconds)},
              {"heartbeat_in_future", topic.heartbeat_in_future},
              {"descriptor_refused", topic.descriptor_refused},
              {"read_retries", topic.read_retries ? Json(*topic.read_retries) : Json(nullptr)},
              {"subscribers", std::move(subscribers)}};
}

Json field_notes_json(const TopicState& topic) {
  return topic.field_notes ? *topic.field_notes : Json::object();
}

Json detail_json(const TopicState& topic) {
  Json entry = summary_json(topic);
  entry["value_seq"] = topic.value_seq;
  entry["value"] = topic.value;
  entry["fields"] = field_notes_json(topic);
  // A refused descriptor is not parsed again here, on the I/O thread.
  entry["descriptor"] = topic.descriptor.empty() || topic.descriptor_refused
                            ? Json(nullptr)
                            : Json::parse(topic.descriptor, nullptr, false);
  return entry;
}

Json topics_json(const ModelSnapshot& model) {
  Json topics = Json::array();
  for (const TopicState& topic : model.topics) {
    topics.push_back(summary_json(topic));
  }
  return Json{{"prefix", model.prefix},
              {"sampled_realtime_ns", model.sampled_realtime_ns},
              {"sample", model.sample_number},
              {"topics", std::move(topics)}};
}

}  // namespace shmsnap::serve
