#include "foxglove_channels.hpp"

#include "shmsnap/error.hpp"
#include "shmsnap/json_schema.hpp"

namespace shmsnap::serve {
namespace {

// New or changed descriptors turned into JSON Schemas per update; the rest wait for
// the next sample.
constexpr int max_parses_per_update = 4;

// The history replayed to a new subscriber (foxglove_history.hpp) holds only the
// numeric fields, so the channel's schema lists fields without requiring them; every
// live message still carries them all. Depth is bounded by the descriptor's nesting.
// (A field may itself be named "required": only the keyword of each schema goes.)
void drop_required(nlohmann::json& schema) {
  if (!schema.is_object()) {
    return;
  }
  schema.erase("required");
  if (const auto properties = schema.find("properties"); properties != schema.end() && properties->is_object()) {
    for (auto& property : *properties) {
      drop_required(property);
    }
  }
  if (const auto items = schema.find("items"); items != schema.end()) {
    drop_required(*items);
  }
  if (const auto any_of = schema.find("anyOf"); any_of != schema.end() && any_of->is_array()) {
    for (auto& alternative : *any_of) {
      drop_required(alternative);
    }
  }
}

}  // namespace

void FoxgloveChannels::update(const ModelSnapshot& snapshot) {
  std::map<std::string, Known> kept;
  std::map<std::string, std::string> refused;
  int parse_budget = max_parses_per_update;
  for (const TopicState& topic : snapshot.topics) {
    if (!topic.valid || topic.descriptor.empty() || topic.descriptor_refused) {
      continue;
    }
    if (const auto known = refused_.find(topic.name); known != refused_.end() && known->second == topic.descriptor) {
      refused.insert(refused_.extract(known));
      continue;
    }
    const auto found = by_topic_.find(topic.name);
    if (found != by_topic_.end() && found->second.descriptor == topic.descriptor) {
      kept.emplace(topic.name, std::move(found->second));
      by_topic_.erase(found);
      continue;
    }
    if (parse_budget == 0) {
      continue;  // advertised after a later update
    }
    --parse_budget;
    ++parses_;
    foxglove::Channel channel;
    try {
      nlohmann::json schema = json_schema_from_descriptor(topic.descriptor);
      drop_required(schema);
      channel.schema = schema.dump();
    } catch (const std::exception&) {                 // Error, or nlohmann's own for text it cannot read
      refused.emplace(topic.name, topic.descriptor);  // nothing a client could decode
      continue;
    }
    channel.id = next_id_++;
    channel.topic = topic.name;
    channel.schema_name = topic.schema_name;
    kept.emplace(topic.name, Known{channel.id, topic.descriptor});
    channels_.emplace(channel.id, std::move(channel));
  }
  for (const auto& [topic, gone] : by_topic_) {
    channels_.erase(gone.id);
  }
  by_topic_ = std::move(kept);
  refused_ = std::move(refused);
}

}  // namespace shmsnap::serve
