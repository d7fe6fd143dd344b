#include "foxglove_channels.hpp"

#include "shmsnap/error.hpp"
#include "shmsnap/json_schema.hpp"

namespace shmsnap::serve {
namespace {

// New or changed descriptors turned into JSON Schemas per update; the rest wait for
// the next sample.
constexpr int max_parses_per_update = 4;

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
      channel.schema = json_schema_from_descriptor(topic.descriptor).dump();
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
