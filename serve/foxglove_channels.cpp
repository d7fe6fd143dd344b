#include "foxglove_channels.hpp"

#include "shmsnap/error.hpp"
#include "shmsnap/json_schema.hpp"

namespace shmsnap::serve {

void FoxgloveChannels::update(const ModelSnapshot& snapshot) {
  std::map<std::string, Known> kept;
  for (const TopicState& topic : snapshot.topics) {
    if (!topic.valid || topic.descriptor.empty()) {
      continue;
    }
    const auto found = by_topic_.find(topic.name);
    if (found != by_topic_.end() && found->second.descriptor == topic.descriptor) {
      kept.emplace(topic.name, std::move(found->second));
      by_topic_.erase(found);
      continue;
    }
    foxglove::Channel channel;
    try {
      channel.schema = json_schema_from_descriptor(topic.descriptor).dump();
    } catch (const Error&) {
      continue;  // a descriptor the codec refuses: nothing a client could decode
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
}

}  // namespace shmsnap::serve
