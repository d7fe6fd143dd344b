// The attach path over the topic's names: the region opened with shm_open under
// /P:T, this subscriber's notify queue /P:T:sub:<id> created by name (a dead
// holder's reclaimed), and the registration sent through the publisher's control
// queue /P:T:ctl (HELLO, answered by WELCOME on the notify queue, ended by BYE).
// Owns the control queue and the registration's nonce; the notify queue it fills
// is its Attachment's. Used by one thread at a time, like its subscriber.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/subscriber.hpp"
#include "subscriber/attach_path.hpp"

namespace shmsnap::detail {

class NamedAttach final : public AttachPath {
 public:
  /// Throws Error(invalid_argument) for a queue mode that lets others use the queue.
  NamedAttach(TopicNames names, std::string id, const SubscriberOptions& options);
  ~NamedAttach() override;
  NamedAttach(const NamedAttach&) = delete;
  NamedAttach& operator=(const NamedAttach&) = delete;
  NamedAttach(NamedAttach&&) = delete;
  NamedAttach& operator=(NamedAttach&&) = delete;

  [[nodiscard]] RegionReader open_region(MessageQueue& notify, std::int64_t deadline_ns) override;
  [[nodiscard]] int register_with(const RegionReader& region, MessageQueue& notify, std::int64_t deadline_ns) override;
  void unregister(const RegionReader* region, bool say_bye) noexcept override;
  [[nodiscard]] bool successor_ready(ino_t inode, std::uint64_t epoch) noexcept override;
  void release(MessageQueue& notify) noexcept override;

 private:
  void create_notify_queue(const RegionReader& candidate, MessageQueue& notify, std::int64_t deadline_ns);
  void hello(const RegionReader& candidate, MessageQueue& notify, std::int64_t deadline_ns);
  [[nodiscard]] Error squatted_queue(const std::string& queue_name, const std::vector<pid_t>& holders, int err) const;
  [[nodiscard]] Error busy_id(pid_t holder) const;
  /// The epoch of the region under the topic's name now, if a trusted one is there.
  [[nodiscard]] std::optional<std::uint64_t> current_epoch() const noexcept;
  [[nodiscard]] Error epoch_changed(const RegionReader& candidate, std::uint64_t now_epoch) const;

  TopicNames names_;
  std::string id_;
  mode_t queue_mode_;
  std::vector<uid_t> trusted_owners_;
  bool wants_notify_;  // not in spin mode: the publisher sends UPDATEs
  MessageQueue control_;
  std::uint64_t nonce_ = 0;       // secret of the current registration (HELLO/WELCOME/BYE)
  std::string reattach_problem_;  // the last refusal while looking for a successor, said once
};

}  // namespace shmsnap::detail
