// The untyped subscriber's state, shared by the files of lib/src/subscriber/:
// attaching (attach.cpp), following the publisher's liveness and re-attaching
// (liveness.cpp), reading the newest snapshot after a wake-up (snapshot_reader.cpp)
// and the wait strategies (wait_strategies.cpp). A subscriber is used by one thread
// at a time, so none of it is synchronised.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/subscriber.hpp"

namespace shmsnap {

// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions): its move-only members delete copying
struct UntypedSubscriber::State {
  UntypedSubscriber& owner;
  TopicNames names;
  SubscriberOptions options;
  const SchemaInfo* schema;
  std::string id;

  MessageQueue notify;  // non-blocking: drained after a wake-up; in the epoll set behind fd()
  std::optional<RegionReader> region;
  MessageQueue control;
  int pidfd = -1;
  int epoll_fd = -1;
  int timer_fd = -1;

  std::vector<std::byte> local;  // the local state; reallocated only for schema-less readers
  std::string descriptor;
  std::string schema_name;  // owns the text that `schema` views
  SchemaInfo schema_seen;   // the attached region's schema (name, version, fingerprint, size)
  std::uint64_t nonce = 0;  // secret of the current registration (HELLO/WELCOME/BYE)
  bool has_value = false;
  bool stale = false;    // detached: the publisher is gone
  bool stalled = false;  // attached, but the publisher's heartbeat stopped
  bool publisher_lost_pending = false;
  bool reattach_now = false;
  bool status_reported = false;  // by report(), since the current wait() began
  ino_t attached_inode = 0;
  std::uint64_t attached_epoch = 0;
  std::uint64_t last_seq = 0;
  std::int64_t next_reattach_ns = 0;
  std::string reattach_problem;       // the last refusal while looking for a successor, said once
  std::int64_t last_flap_log_ns = 0;  // when a stall/resume line was last logged (rate limit)
  std::uint64_t flaps_unlogged = 0;   // stall/resume changes since then, not logged
  UpdateInfo info;
  SubscriberStats stats;

  State(UntypedSubscriber& core, std::string_view topic, const SchemaInfo* reader_schema,
        const SubscriberOptions& opts);
  ~State();

  void attach(std::int64_t deadline);  // throws
  void check_schema(const RegionReader& candidate) const;
  void create_notify_queue(const RegionReader& candidate, std::int64_t deadline_ns);
  [[nodiscard]] Error squatted_queue(const std::string& queue_name, const std::vector<pid_t>& holders, int err) const;
  [[nodiscard]] Error busy_id(pid_t holder) const;
  void register_with_publisher(const RegionReader& candidate, std::int64_t deadline);
  /// The epoch of the region under the topic's name now, if a trusted one is there.
  [[nodiscard]] std::optional<std::uint64_t> current_epoch() const noexcept;
  [[nodiscard]] Error epoch_changed(const RegionReader& candidate, std::uint64_t now_epoch) const;
  void rebuild_epoll() noexcept;
  void arm_timer(std::chrono::nanoseconds period) noexcept;
  [[nodiscard]] std::chrono::nanoseconds heartbeat_watch_period() const noexcept;
  void detach(bool send_bye) noexcept;
  void release() noexcept;
  void go_stale(const char* why) noexcept;
  bool try_reattach(std::int64_t deadline) noexcept;
  enum class Drained { nothing, message, shutdown };
  Drained handle_message(std::span<const std::byte> bytes) noexcept;
  Drained drain_notifications() noexcept;
  bool publisher_gone() const noexcept;  // NOLINT(modernize-use-nodiscard): a query; callers branch on it
  bool after_wakeup(Drained drained, std::int64_t deadline) noexcept;
  bool deliver_newest(std::int64_t deadline_ns) noexcept;
  bool process(std::int64_t deadline) noexcept;
  bool wait_blocking(std::int64_t deadline_ns) noexcept;
  bool wait_spinning(std::int64_t deadline_ns, bool until_deadline) noexcept;
  void report(StatusEvent event) noexcept;
  // A status event was reported and options.wait_returns_on_status asks wait() to end there.
  [[nodiscard]] bool status_ends_wait() const noexcept { return status_reported && options.wait_returns_on_status; }
  void watch_heartbeat() noexcept;
};

}  // namespace shmsnap
