#include "shmsnap/clock.hpp"

#include <algorithm>
#include <ctime>
#include <limits>

namespace shmsnap {
namespace {
std::int64_t read_clock(clockid_t clock) noexcept {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}
}  // namespace

std::int64_t monotonic_ns() noexcept {
  return read_clock(CLOCK_MONOTONIC);
}

std::int64_t monotonic_deadline(std::chrono::nanoseconds timeout) noexcept {
  const std::int64_t now = monotonic_ns();
  const std::int64_t left = std::max<std::int64_t>(0, timeout.count());
  return left > std::numeric_limits<std::int64_t>::max() - now ? std::numeric_limits<std::int64_t>::max() : now + left;
}

int milliseconds_until(std::int64_t deadline_ns) noexcept {
  const std::int64_t left_ns = deadline_ns - monotonic_ns();
  if (left_ns <= 0) {
    return 0;
  }
  const std::int64_t ms = left_ns / 1'000'000 + (left_ns % 1'000'000 != 0 ? 1 : 0);
  return static_cast<int>(std::min<std::int64_t>(ms, std::numeric_limits<int>::max()));
}
std::int64_t realtime_ns() noexcept {
  return read_clock(CLOCK_REALTIME);
}

}  // namespace shmsnap
