// A subscriber's view of its publisher's liveness: the descriptor that reports the
// publisher's death (a pidfd), the heartbeat watch (stalled and resumed, with its
// rate-limited log), whether the state is stale (the publisher is gone), and when
// to look for a successor. Owns those and nothing else: the engine hands it the
// region to look at and tells it of each attach. Used on the subscriber's thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "shmsnap/region.hpp"
#include "shmsnap/subscriber.hpp"

namespace shmsnap::detail {

class Liveness {
 public:
  /// `id` and `topic` name the subscriber in the log.
  Liveness(std::string id, std::string topic, std::chrono::milliseconds stall_timeout,
           std::chrono::milliseconds reattach_interval) noexcept;
  ~Liveness();
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;
  Liveness(Liveness&&) = delete;
  Liveness& operator=(Liveness&&) = delete;

  /// A publisher is followed (again): takes `death_watch` (owned; -1: none), fresh.
  void followed(int death_watch) noexcept;
  /// The publisher is lost: logs it (once, naming `publisher` and the last seq held)
  /// and turns stale. False when already stale, so the caller does nothing twice.
  bool lose(pid_t publisher, const char* why, std::uint64_t last_seq) noexcept;
  /// Closes the death watch (at detach); the caller took it out of its epoll set.
  void drop_death_watch() noexcept;
  [[nodiscard]] int death_watch_fd() const noexcept { return pidfd_; }

  /// Whether the publisher of `region` has exited (its pidfd, or its pid without one).
  [[nodiscard]] bool publisher_gone(const RegionReader& region) const noexcept;
  /// Looks at the heartbeat and source-lost flag of `region`: the event when the
  /// publisher turned stalled or resumed since the last look, logged at most once per
  /// interval; nothing when unchanged.
  [[nodiscard]] std::optional<StatusEvent> watch_heartbeat(const RegionReader& region, std::uint64_t last_seq) noexcept;
  /// The heartbeat timer's period while attached (a fraction of stall_timeout).
  [[nodiscard]] std::chrono::nanoseconds heartbeat_watch_period() const noexcept;
  [[nodiscard]] std::chrono::nanoseconds reattach_interval() const noexcept { return reattach_interval_; }

  /// An EPOCH message came: look for the successor at the next chance, not the timer's.
  void reattach_soon() noexcept { reattach_now_ = true; }
  /// Whether to look for a successor now (`now_ns`); if so, the next look is one
  /// reattach_interval later.
  [[nodiscard]] bool reattach_due(std::int64_t now_ns) noexcept;
  /// The deadline of a re-attach inside a wait whose own deadline is `deadline_ns`.
  [[nodiscard]] static std::int64_t reattach_deadline(std::int64_t deadline_ns, std::int64_t now_ns) noexcept;

  /// Detached: the publisher is gone.
  [[nodiscard]] bool stale() const noexcept { return stale_; }
  /// Attached, but the publisher's heartbeat stopped (or its source is lost).
  [[nodiscard]] bool stalled() const noexcept { return stalled_; }

 private:
  std::string id_;
  std::string topic_;
  std::chrono::nanoseconds stall_timeout_;
  std::chrono::nanoseconds reattach_interval_;
  int pidfd_ = -1;
  bool stale_ = false;
  bool stalled_ = false;
  bool reattach_now_ = false;
  std::int64_t next_reattach_ns_ = 0;
  std::int64_t last_flap_log_ns_ = 0;  // when a stall/resume line was last logged (rate limit)
  std::uint64_t flaps_unlogged_ = 0;   // stall/resume changes since then, not logged
};

}  // namespace shmsnap::detail
