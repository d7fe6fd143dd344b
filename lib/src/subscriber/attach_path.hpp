// The seam between a subscriber and the way it reaches a publisher. An AttachPath
// hands the subscriber's Attachment what every attach needs: a validated region
// mapping, a notify queue the publisher writes, a registration it can end with a
// BYE, and a descriptor to watch for the publisher's death. NamedAttach is the path
// over the topic's names (shm_open, the control queue's HELLO/WELCOME/BYE); a path
// over a Unix socket (descriptors passed with SCM_RIGHTS, the connection as the
// control channel) is another implementation of this class. Called only by the
// Attachment, on the subscriber's thread, at attach, re-attach and detach: never
// on the read path, so the virtual calls cost nothing there.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/region.hpp"

namespace shmsnap::detail {

class AttachPath {
 public:
  AttachPath() = default;
  virtual ~AttachPath() = default;
  AttachPath(const AttachPath&) = delete;
  AttachPath& operator=(const AttachPath&) = delete;
  AttachPath(AttachPath&&) = delete;
  AttachPath& operator=(AttachPath&&) = delete;

  /// Maps and validates the topic's region of a live publisher (owner, mode, layout).
  /// A path whose publisher hands the region only to a registered subscriber (the
  /// socket) registers here, with `notify` (made this subscriber's notify queue when
  /// not open) and within `deadline_ns`; register_with then only completes it.
  /// Throws Error: not_found (none, or its publisher is gone), permission_denied, ...
  [[nodiscard]] virtual RegionReader open_region(MessageQueue& notify, std::int64_t deadline_ns) = 0;
  /// Makes `notify` this subscriber's notify queue (kept when already open and still
  /// ours) and registers with the publisher of `region`, which answers on it. Returns
  /// a descriptor that turns readable when that publisher is gone, owned by the
  /// caller, or -1 where the system has none (then region.publisher_alive() tells).
  /// Throws Error: timed_out, busy (id in use), limit_exceeded, protocol, ...
  [[nodiscard]] virtual int register_with(const RegionReader& region, MessageQueue& notify,
                                          std::int64_t deadline_ns) = 0;
  /// Ends the current registration, with a BYE first when `say_bye` and the publisher
  /// of `region` (nullptr: none attached) is still there to hear it.
  virtual void unregister(const RegionReader* region, bool say_bye) noexcept = 0;
  /// While detached: whether a live publisher other than the one of (inode, epoch)
  /// is there to attach to. A cheap look, made every reattach_interval.
  [[nodiscard]] virtual bool successor_ready(ino_t inode, std::uint64_t epoch) noexcept = 0;
  /// Closes `notify` and removes what this path created for it.
  virtual void release(MessageQueue& notify) noexcept = 0;
};

}  // namespace shmsnap::detail
