// OpenedTopic: a topic as list, dump and watch read it. Named mode maps the region by
// its name in /dev/shm and registers nothing. Socket mode has no name to map: it
// attaches through DIR/<topic>.sock as a spinning subscriber (so the publisher sends
// it no notifications) and reads the region that came with the publisher's WELCOME,
// whose liveness is the connection. Either way the reader stays valid for the
// object's lifetime. Used by one thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "shmsnap/region.hpp"
#include "shmsnap/subscriber.hpp"

namespace shmsnap::app {

struct TopicCommand;

class OpenedTopic {
 public:
  /// Opens `topic` as `command` says (socket_dir, prefix, trust_owners);
  /// `attach_timeout` bounds the socket mode's exchange with the publisher. Throws
  /// Error: not_found (no region; no live publisher on the socket), permission_denied,
  /// invalid_region, timed_out (a publisher that does not answer), ...
  OpenedTopic(const TopicCommand& command, const std::string& topic, std::chrono::milliseconds attach_timeout);

  /// The region: its header, descriptor, slots and subscriber table.
  [[nodiscard]] const RegionReader& reader() const noexcept;
  /// In socket mode this reader's own row in the subscriber table (to leave out of
  /// what is shown); "" in named mode.
  [[nodiscard]] std::string own_subscriber_id() const;

 private:
  std::optional<RegionReader> named_;
  std::unique_ptr<UntypedSubscriber> attached_;  // socket mode: holds the registration and the mapping
};

/// Where `topic` is looked for: "/dev/shm/<prefix>:<topic>", or "DIR/<topic>.sock"
/// with --socket-dir.
[[nodiscard]] std::string topic_location(const TopicCommand& command, const std::string& topic);

}  // namespace shmsnap::app
