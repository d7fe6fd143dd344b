// The wait strategies: notify (sleep on the queue and the publisher's pidfd),
// spin (poll the published word) and hybrid (spin a bounded time, then sleep).

#include <poll.h>
#include <sys/epoll.h>

#include <algorithm>
#include <array>

#include "shmsnap/clock.hpp"
#include "subscriber/subscriber_state.hpp"

namespace shmsnap {
namespace {

// In spin mode, read the clock every this many polls of the published word, and
// look at the queue and the publisher's liveness every spin_liveness_interval_ns.
constexpr unsigned spin_clock_interval = 256;
constexpr std::int64_t spin_liveness_interval_ns = 1'000'000;
// Without a pidfd (kernels before 5.3) a blocking wait re-checks the publisher's
// liveness at least this often; with one, its exit wakes the wait at once.
constexpr std::int64_t liveness_slice_ns = 50'000'000;

// A relative timeout for ppoll, which measures it on CLOCK_MONOTONIC (so a step
// of the wall clock neither stretches nor cuts a wait), at nanosecond resolution.
timespec relative_timeout(std::int64_t nanoseconds) noexcept {
  nanoseconds = std::max<std::int64_t>(0, nanoseconds);
  return timespec{.tv_sec = static_cast<time_t>(nanoseconds / 1'000'000'000),
                  .tv_nsec = static_cast<long>(nanoseconds % 1'000'000'000)};
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

bool UntypedSubscriber::State::wait_blocking(std::int64_t deadline_ns) noexcept {
  while (true) {
    const std::int64_t left_ns = deadline_ns - monotonic_ns();
    if (!stale) {
      // Sleep in epoll on the queue, the publisher's pidfd and the heartbeat timer
      // together (registered once, at attach), so the publisher's exit ends the wait
      // at once; the timeout is relative and on CLOCK_MONOTONIC, in nanoseconds.
      std::array<epoll_event, 4> events{};
      const timespec timeout = relative_timeout(pidfd >= 0 ? left_ns : std::min(left_ns, liveness_slice_ns));
      if (epoll_pwait2(epoll_fd, events.data(), static_cast<int>(events.size()), &timeout, nullptr) > 0) {
        // Read before taking the notification off the queue, so the syscall that
        // takes it is off the latency path. No wake-up is lost: after_wakeup reads
        // again after the dequeue; a publish before the dequeue is visible to that
        // read, and one after it sends a new notification into the emptied queue.
        const bool early = deliver_newest(deadline_ns);
        if (after_wakeup(drain_notifications(), deadline_ns) || early) {
          return true;
        }
      } else if (after_wakeup(Drained::nothing, deadline_ns)) {
        return true;
      }
    } else {
      // Stale: wait for an EPOCH message or the re-attach timer (both in the epoll set).
      std::array<pollfd, 1> watched{pollfd{.fd = epoll_fd, .events = POLLIN, .revents = 0}};
      const timespec timeout = relative_timeout(left_ns);
      if (ppoll(watched.data(), 1, &timeout, nullptr) > 0 && process(deadline_ns)) {
        return true;
      }
    }
    if (status_ends_wait() || monotonic_ns() >= deadline_ns) {
      return false;
    }
  }
}

bool UntypedSubscriber::State::wait_spinning(std::int64_t deadline_ns, bool until_deadline) noexcept {
  std::int64_t next_check_ns = 0;
  for (unsigned spins = 1;; ++spins) {
    // The hot loop is one load of the published word; a change is read at once.
    if (!stale && region->latest_seq() != last_seq && deliver_newest(deadline_ns)) {
      return true;
    }
    if (spins % spin_clock_interval == 0) {
      const std::int64_t now = monotonic_ns();
      if (now >= next_check_ns) {
        // Queue (EPOCH/SHUTDOWN), publisher liveness and re-attach: a few syscalls, rarely.
        next_check_ns = now + spin_liveness_interval_ns;
        if (process(deadline_ns)) {
          return true;
        }
        if (status_ends_wait()) {
          return false;  // a status event, reported by process() or by a read that found the writer dead
        }
        if (stale && until_deadline) {
          return wait_blocking(deadline_ns);  // nothing to spin on without a publisher
        }
      }
      if (now >= deadline_ns) {
        return false;
      }
    }
    cpu_relax();
  }
}

}  // namespace shmsnap
