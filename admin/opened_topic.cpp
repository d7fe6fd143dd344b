// OpenedTopic (opened_topic.hpp): a topic's region by name, or through its socket.
#include "opened_topic.hpp"

#include <string>
#include <vector>

#include "admin_commands.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"

namespace shmsnap::app {

OpenedTopic::OpenedTopic(const TopicCommand& command, const std::string& topic,
                         std::chrono::milliseconds attach_timeout) {
  const std::vector<uid_t> trusted = trusted_uids(command.trust_owners);
  if (command.socket_dir.empty()) {
    named_.emplace(
        RegionReader::open(TopicNames(resolve_prefix(command.prefix), topic).region(), TrustedOwners{.also = trusted}));
    return;
  }
  // Never waited on or polled: the engine then keeps the region it attached to,
  // and the reader tells the publisher's end by the connection.
  SubscriberOptions options{.prefix = command.prefix, .mode = WaitMode::spin, .attach_timeout = attach_timeout};
  options.trusted_owners = trusted;
  options.socket_dir = command.socket_dir;
  attached_ = std::make_unique<UntypedSubscriber>(topic, nullptr, options);
  if (attached_->region() == nullptr) {
    // The first read found the publisher dying in the middle of a write.
    throw Error(Errc::not_found, "topic '" + topic + "': the publisher on " + topic_location(command, topic) +
                                     " went away while it was being attached to; try again");
  }
}

const RegionReader& OpenedTopic::reader() const noexcept {
  return named_ ? *named_ : *attached_->region();
}

std::string OpenedTopic::own_subscriber_id() const {
  return attached_ ? attached_->id() : std::string();
}

std::string topic_location(const TopicCommand& command, const std::string& topic) {
  if (command.socket_dir.empty()) {
    return "/dev/shm" + TopicNames(resolve_prefix(command.prefix), topic).region();
  }
  return command.socket_dir + (command.socket_dir.back() == '/' ? "" : "/") + topic + ".sock";
}

}  // namespace shmsnap::app
