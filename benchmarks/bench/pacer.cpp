// Absolute-deadline pacing (see pacer.hpp).
#include "bench/pacer.hpp"

#include <cerrno>
#include <ctime>

#include "bench/clock.hpp"

namespace shmsnap::bench {

Pacer::Pacer(double rate_hz, std::int64_t spin_ns) noexcept
    : period_ns_(rate_hz > 0 ? static_cast<std::int64_t>(1e9 / rate_hz) : 0), spin_ns_(spin_ns) {}

void Pacer::wait_next_tick() noexcept {
  if (period_ns_ == 0)
    return;
  std::int64_t now = monotonic_ns();
  if (next_ns_ == 0 || now > next_ns_ + period_ns_) {
    next_ns_ = now;
    return;
  }
  next_ns_ += period_ns_;
  const std::int64_t wake_ns = next_ns_ - spin_ns_;
  if (now < wake_ns) {
    const timespec wake{.tv_sec = static_cast<time_t>(wake_ns / 1'000'000'000),
                        .tv_nsec = static_cast<long>(wake_ns % 1'000'000'000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nullptr) == EINTR) {
    }
  }
  while (monotonic_ns() < next_ns_)
    cpu_relax();
}

}  // namespace shmsnap::bench
