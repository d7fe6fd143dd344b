// Absolute-deadline pacing for the publisher loop: tick k is due at start + k*period,
// so wake-up jitter never accumulates into a drifting rate. Sleeps with
// clock_nanosleep(TIMER_ABSTIME) to shortly before the tick and spins the rest, because
// a sleeping wake-up alone is tens of microseconds late. Publisher thread only.
#pragma once

#include <cstdint>

namespace shmsnap::bench {

/// Paces a loop at a fixed rate, or not at all (rate 0: max mode).
class Pacer {
 public:
  /// `rate_hz` <= 0 disables pacing; `spin_ns` is the busy-wait tail before each tick.
  explicit Pacer(double rate_hz, std::int64_t spin_ns = 20'000) noexcept;

  /// Returns at the next tick. After a stall longer than one period the schedule
  /// restarts from now instead of bursting through the missed ticks, so the
  /// subscribers never see a backlog the pacing itself created.
  void wait_next_tick() noexcept;

 private:
  std::int64_t period_ns_;
  std::int64_t spin_ns_;
  std::int64_t next_ns_ = 0;
};

}  // namespace shmsnap::bench
