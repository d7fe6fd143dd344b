// The publisher's registry of subscribers: who is registered, HELLO and BYE, the
// answers (WELCOME/REJECTED) and those waiting for a full queue, the reaping of
// dead subscribers, and the subscriber table mirrored into the region for tools.
// It owns the links (each with its notify queue) and its counters; it adds and
// retires their queues in the fan-out and asks the control loop to watch their
// processes. admit() is the one way in, whatever carried the request: a HELLO on
// the control queue (handle_control_message), or one on a subscriber's connection
// in socket mode (SocketAcceptor), whose link then holds the connection.
// Threads: the control thread only (announce_new_epoch: the owning thread before
// the control thread starts); the counters from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "publisher/control_loop.hpp"
#include "publisher/fan_out_notifier.hpp"
#include "region/region_writer.hpp"
#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/names.hpp"
#include "transport/unique_fd.hpp"

namespace shmsnap::detail {

/// One subscriber, as the publisher holds it once registered, or as a request to
/// be registered (admit()) with `key` and `table_index` not yet set.
struct SubscriberLink {
  std::uint64_t key = 0;  ///< the registry's handle: the control loop's watch key, replies' address
  std::string id;
  pid_t pid = 0;
  std::uint64_t start_time = 0;  ///< with pid, names the process across pid reuse
  std::uint32_t flags = 0;       ///< ControlFlags (hello_wants_notify)
  std::uint32_t table_index = 0;
  std::uint64_t nonce = 0;  ///< the registration's secret: a BYE must carry it
  MessageQueue queue;       ///< its descriptor is in the fan-out at table_index
  /// Socket mode: the subscriber's connection, watched by the control loop; its
  /// EOF or BYE ends the registration. Its pid may then be 0 (another PID namespace).
  UniqueFd connection;
};

/// What admit() decided.
struct Admission {
  NotifyKind kind = NotifyKind::rejected;  ///< welcome or rejected
  RejectReason reason = RejectReason::none;
  pid_t holder = 0;       ///< id_in_use: the live process that holds the id
  std::uint64_t key = 0;  ///< welcome: the link's key
};

// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions): holds references to its peers; neither copied nor moved
class Registry {
 public:
  /// Registers at most `max_subscribers` subscribers of the topic `names`; writes
  /// the table of `region`, adds queues to `fan_out` and process watches to
  /// `exits`, all of which must outlive it.
  Registry(TopicNames names, std::uint32_t max_subscribers, RegionWriter& region, FanOutNotifier& fan_out,
           ControlLoop& exits);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Owning thread, before the control thread starts: EPOCH to the subscribers a
  /// dead predecessor had registered; the queues of those that died too are removed.
  void announce_new_epoch(const PreviousOwner& previous) noexcept;

  /// One raw message from the control queue: HELLO (checked, then admit() and an
  /// answer on the subscriber's queue), BYE, or garbage (counted and dropped).
  void handle_control_message(std::span<const std::byte> bytes) noexcept;

  /// Registers `candidate` (its id, pid, start_time, flags, nonce and queue checked
  /// by its source) unless the table is full or a live process holds its id. The
  /// same process again replaces its own registration's queue. On welcome the link
  /// is taken from `candidate` and notified from here on; on rejected `candidate`
  /// is left as it was, so its source can answer through it. Sends no answer.
  Admission admit(SubscriberLink&& candidate) noexcept;

  /// Unregisters the subscriber under `key` (if still registered) and removes its
  /// queue, which it can no longer do itself. `why` is for the log.
  void reap(std::uint64_t key, const char* why) noexcept;
  /// What the control loop watches under `key` fired: its process exited, or (socket
  /// mode) its connection closed or sent BYE. Reaps it, saying which.
  void on_watch_fired(std::uint64_t key) noexcept;
  /// Reaps subscribers whose process is gone and mirrors the per-subscriber
  /// notification counts into the region's table.
  void sweep_and_mirror() noexcept;

  /// Sends the answers that found a full queue, until each one's deadline.
  void retry_pending_replies() noexcept;
  [[nodiscard]] bool has_pending_replies() const noexcept { return !pending_replies_.empty(); }

  /// Any thread.
  [[nodiscard]] std::uint64_t subscribers() const noexcept { return subscriber_count_.load(std::memory_order_acquire); }
  [[nodiscard]] std::uint64_t reclaimed() const noexcept { return reclaimed_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t rejected() const noexcept { return rejected_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t dropped_control() const noexcept {
    return dropped_control_.load(std::memory_order_relaxed);
  }

 private:
  /// An answer that found its queue full, retried until `deadline_ns` without
  /// blocking other registrations.
  struct PendingReply {
    std::uint64_t link_key = 0;  // send through this registered link's queue, or
    MessageQueue queue;          // through this one (answers to unregistered peers)
    NotifyMessage message;
    std::int64_t deadline_ns = 0;
  };

  void handle_hello(const ControlMessage& hello) noexcept;
  void handle_bye(const ControlMessage& bye) noexcept;
  std::unique_ptr<SubscriberLink> unregister(std::uint64_t key) noexcept;
  void write_table_entry(const SubscriberLink& link, bool active) noexcept;
  void drop_control(const std::string& why) noexcept;
  void reply(const ControlMessage& hello, MessageQueue queue, std::uint64_t link_key, NotifyKind kind,
             RejectReason reason = RejectReason::none, pid_t holder = 0) noexcept;
  bool try_send_reply(PendingReply& pending) noexcept;

  const TopicNames names_;
  const std::uint32_t max_subscribers_;
  RegionWriter& region_;
  FanOutNotifier& fan_out_;
  ControlLoop& exits_;

  std::vector<std::unique_ptr<SubscriberLink>> links_;
  std::uint64_t next_key_ = 1;
  std::vector<PendingReply> pending_replies_;
  std::int64_t last_drop_log_ns_ = 0;

  std::atomic<std::uint64_t> subscriber_count_{0};
  std::atomic<std::uint64_t> reclaimed_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> dropped_control_{0};
};

}  // namespace shmsnap::detail
