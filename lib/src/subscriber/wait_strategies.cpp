// The wait strategies: notify (sleep on the queue and the publisher's pidfd),
// spin (poll the published word) and hybrid (spin a bounded time, then sleep).

#include <poll.h>

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

bool SubscriberCore::State::wait_blocking(std::int64_t deadline_ns) noexcept {
  while (true) {
    const std::int64_t left_ns = deadline_ns - monotonic_ns();
    if (!stale) {
      // A pending notification is taken without sleeping; otherwise sleep on the
      // queue and the publisher's pidfd together, so its exit ends the wait at once.
      Drained drained = drain_notifications();
      if (drained == Drained::nothing && left_ns > 0) {
        std::array<pollfd, 2> watched{pollfd{.fd = notify.native_handle(), .events = POLLIN, .revents = 0},
                                      pollfd{.fd = pidfd, .events = POLLIN, .revents = 0}};
        // Wake at least every quarter stall_timeout to watch the heartbeat (and, without
        // a pidfd, every liveness slice).
        const std::int64_t watch_ns = heartbeat_watch_period().count();
        const timespec timeout =
            relative_timeout(std::min({left_ns, watch_ns, pidfd >= 0 ? left_ns : liveness_slice_ns}));
        if (ppoll(watched.data(), pidfd >= 0 ? 2 : 1, &timeout, nullptr) > 0) {
          drained = drain_notifications();
        }
      }
      if (after_wakeup(drained, deadline_ns)) {
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
    if (monotonic_ns() >= deadline_ns) {
      return false;
    }
  }
}

bool SubscriberCore::State::wait_spinning(std::int64_t deadline_ns, bool until_deadline) noexcept {
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
