// A subscriber's waiter: the epoll set behind fd() (notify queue, the publisher's
// death watch, the timer), the timerfd (heartbeat watch while attached, re-attach
// looks while stale), the wait strategies (blocking in epoll, spinning on the
// published word) and the dispatch of what woke the wait. Owns the two descriptors;
// what to do after a wake-up is the engine's, which the strategies call back.
// Used on the subscriber's thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "shmsnap/clock.hpp"
#include "shmsnap/detail/message_queue.hpp"

namespace shmsnap::detail {

/// What a wake-up found on the notify queue.
enum class Drained {
  nothing,   ///< no message: the timer, the death watch, or a caller's poll
  message,   ///< an UPDATE (or a malformed message, ignored)
  epoch,     ///< EPOCH: a successor is there; look for it now
  shutdown,  ///< SHUTDOWN: believed only with evidence (the region's state, the pidfd)
};

class Waiter {
 public:
  /// `id` names the subscriber in errors and the log. Throws Error(system).
  explicit Waiter(std::string id);
  ~Waiter();
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  Waiter(Waiter&&) = delete;
  Waiter& operator=(Waiter&&) = delete;

  /// The epoll set: readable when there is work for poll().
  [[nodiscard]] int fd() const noexcept { return epoll_fd_; }
  /// (Re)registers the notify queue, the death watch (-1: none) and the timer.
  void watch(int notify_fd, int death_watch_fd) noexcept;
  /// Takes a descriptor out of the set before it is closed.
  void unwatch(int descriptor_fd) noexcept;
  /// Makes fd() readable every `period`, from now.
  void arm_timer(std::chrono::nanoseconds period) noexcept;
  /// Takes a pending timer expiry (so fd() is not readable for it again).
  void clear_timer() noexcept;
  /// Takes the pending notification off `notify` (depth 1: one receive) and says what it was.
  [[nodiscard]] Drained drain(MessageQueue& notify) noexcept;

  /// notify mode: sleeps in epoll until a delivery, a status that ends the wait, or
  /// `deadline_ns`. `Engine` provides stale(), watches_death(), deliver_newest(d),
  /// after_wakeup(Drained, d), drain_notifications(), process(d), status_ends_wait().
  template <class Engine>
  bool wait_blocking(Engine& engine, std::int64_t deadline_ns) noexcept;
  /// spin mode (and hybrid's first phase): polls the published word (`Engine` also
  /// provides has_news()); with `until_deadline`, a stale subscriber blocks instead.
  template <class Engine>
  bool wait_spinning(Engine& engine, std::int64_t deadline_ns, bool until_deadline) noexcept;

 private:
  /// Sleeps in epoll up to `timeout_ns`; true when something is ready.
  bool sleep(std::int64_t timeout_ns) noexcept;

  // In spin mode, read the clock every this many polls of the published word, and
  // look at the queue and the publisher's liveness every spin_liveness_interval_ns.
  static constexpr unsigned spin_clock_interval = 256;
  static constexpr std::int64_t spin_liveness_interval_ns = 1'000'000;
  // Without a pidfd (kernels before 5.3) a blocking wait re-checks the publisher's
  // liveness at least this often; with one, its exit wakes the wait at once.
  static constexpr std::int64_t liveness_slice_ns = 50'000'000;

  std::string id_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
};

namespace waiter_detail {
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
}  // namespace waiter_detail

template <class Engine>
bool Waiter::wait_blocking(Engine& engine, std::int64_t deadline_ns) noexcept {
  while (true) {
    const std::int64_t left_ns = deadline_ns - monotonic_ns();
    if (!engine.stale()) {
      // Sleep in epoll on the queue, the publisher's pidfd and the heartbeat timer
      // together (registered once, at attach), so the publisher's exit ends the wait
      // at once; the timeout is relative and on CLOCK_MONOTONIC, in nanoseconds.
      if (sleep(engine.watches_death() ? left_ns : std::min(left_ns, liveness_slice_ns))) {
        // Read before taking the notification off the queue, so the syscall that
        // takes it is off the latency path. No wake-up is lost: after_wakeup reads
        // again after the dequeue; a publish before the dequeue is visible to that
        // read, and one after it sends a new notification into the emptied queue.
        const bool early = engine.deliver_newest(deadline_ns);
        if (engine.after_wakeup(engine.drain_notifications(), deadline_ns) || early) {
          return true;
        }
      } else if (engine.after_wakeup(Drained::nothing, deadline_ns)) {
        return true;
      }
    } else {
      // Stale: wait for an EPOCH message or the re-attach timer (both in the epoll set).
      if (sleep(left_ns) && engine.process(deadline_ns)) {
        return true;
      }
    }
    if (engine.status_ends_wait() || monotonic_ns() >= deadline_ns) {
      return false;
    }
  }
}

template <class Engine>
bool Waiter::wait_spinning(Engine& engine, std::int64_t deadline_ns, bool until_deadline) noexcept {
  std::int64_t next_check_ns = 0;
  for (unsigned spins = 1;; ++spins) {
    // The hot loop is one load of the published word; a change is read at once.
    if (!engine.stale() && engine.has_news() && engine.deliver_newest(deadline_ns)) {
      return true;
    }
    if (spins % spin_clock_interval == 0) {
      const std::int64_t now = monotonic_ns();
      if (now >= next_check_ns) {
        // Queue (EPOCH/SHUTDOWN), publisher liveness and re-attach: a few syscalls, rarely.
        next_check_ns = now + spin_liveness_interval_ns;
        if (engine.process(deadline_ns)) {
          return true;
        }
        if (engine.status_ends_wait()) {
          return false;  // a status event, reported by process() or by a read that found the writer dead
        }
        if (engine.stale() && until_deadline) {
          return wait_blocking(engine, deadline_ns);  // nothing to spin on without a publisher
        }
      }
      if (now >= deadline_ns) {
        return false;
      }
    }
    waiter_detail::cpu_relax();
  }
}

}  // namespace shmsnap::detail
