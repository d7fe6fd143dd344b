// The untyped publisher's state, shared by the files of lib/src/publisher/: the
// writer (untyped_publisher.cpp), the fan-out (fan_out.cpp), the control loop
// (control_loop.cpp) and the registry of subscribers (registry.cpp). Each member
// says which thread may touch it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "publisher/fan_out_table.hpp"
#include "region/region_writer.hpp"
#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/publisher.hpp"

namespace shmsnap {

/// epoll keys of the control loop's own descriptors (a subscriber's pidfd has its link key).
inline constexpr std::uint64_t stop_key = ~std::uint64_t{0};
inline constexpr std::uint64_t control_key = ~std::uint64_t{0} - 1;

/// One registered subscriber, as the publisher holds it.
struct SubscriberLink {
  std::uint64_t key = 0;  // epoll key of its pidfd
  std::string id;
  pid_t pid = 0;
  std::uint64_t start_time = 0;
  std::uint32_t flags = 0;
  std::uint32_t table_index = 0;
  std::uint64_t nonce = 0;  // the HELLO's secret: a BYE must carry it
  int pidfd = -1;
  MessageQueue queue;  // its descriptor is in State::fan_out at table_index
};

/// An answer (WELCOME/REJECTED) that found its queue full, retried by the
/// control loop until `deadline_ns` without blocking other registrations.
struct PendingReply {
  std::uint64_t link_key = 0;  // send through this registered link's queue, or
  MessageQueue queue;          // through this one (answers to unregistered peers)
  NotifyMessage message;
  std::int64_t deadline_ns = 0;
};

// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions): its move-only members delete copying
struct UntypedPublisher::State {
  TopicNames names;
  PublisherOptions options;
  detail::RegionWriter region;
  MessageQueue control;
  std::uint64_t fault_seq = 0;
  std::uint64_t epoch = 0;  // copies of header fields, valid after close()
  std::uint32_t payload_bytes = 0;

  // Writer state: touched only by the publishing thread.
  std::uint64_t seq = 0;
  std::uint32_t current_slot = 0;
  std::uint32_t loan_slot = 0;
  bool loan_open = false;    // between begin_write and commit_write/abort_write
  bool source_lost = false;  // mark_source_lost() until the next publish

  // Registered subscribers: the control thread's alone (after stop_threads, the
  // closing thread's). The fan-out reads `fan_out`, never `links`, and takes no lock,
  // so an attaching or dying subscriber can never stall publish().
  std::vector<std::unique_ptr<SubscriberLink>> links;
  detail::FanOutTable fan_out;
  std::atomic<std::uint64_t> subscriber_count{0};
  std::uint64_t next_key = 1;

  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> notified{0};
  std::atomic<std::uint64_t> coalesced{0};
  std::atomic<std::uint64_t> send_errors{0};
  std::atomic<std::uint64_t> reclaimed{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> dropped_control{0};
  std::int64_t last_drop_log_ns = 0;
  std::vector<PendingReply> pending_replies;  // control thread only

  // Notifier thread (FanOut::notifier_thread): publish() bumps `pending_seq` and
  // wakes it; it sends UPDATE for the newest sequence.
  std::atomic<std::uint64_t> pending_seq{0};
  std::atomic<std::int64_t> pending_ts{0};
  std::atomic<bool> stopping{false};
  std::thread notifier;

  int epoll_fd = -1;
  int stop_fd = -1;
  std::thread control_thread;
  bool shut_down = false;

  State(std::string_view topic, const SchemaInfo& schema, std::size_t payload_size, const PublisherOptions& opts);
  ~State();

  void start_threads();
  void close() noexcept;
  void stop_threads() noexcept;
  void notify_all(NotifyKind kind, std::uint64_t seq_value, std::int64_t ts) noexcept;
  void notifier_loop() noexcept;
  void control_loop() noexcept;
  void drain_control() noexcept;
  void handle_hello(const ControlMessage& hello) noexcept;
  void handle_bye(const ControlMessage& bye) noexcept;
  void reap(std::uint64_t key, const char* why) noexcept;
  std::unique_ptr<SubscriberLink> unregister(std::uint64_t key) noexcept;
  void sweep_and_mirror() noexcept;
  void write_table_entry(const SubscriberLink& link, bool active) noexcept;
  void announce_to_previous(const detail::PreviousOwner& previous) noexcept;
  void drop_control(const std::string& why) noexcept;
  void reply(const ControlMessage& hello, MessageQueue queue, std::uint64_t link_key, NotifyKind kind,
             RejectReason reason = RejectReason::none, pid_t holder = 0) noexcept;
  bool try_send_reply(PendingReply& pending) noexcept;
  void retry_pending_replies() noexcept;
};

}  // namespace shmsnap
