#include "shmsnap/clock.hpp"

#include <ctime>

namespace shmsnap {
namespace {
std::int64_t read_clock(clockid_t clock) noexcept {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}
}  // namespace

std::int64_t monotonic_ns() noexcept { return read_clock(CLOCK_MONOTONIC); }
std::int64_t realtime_ns() noexcept { return read_clock(CLOCK_REALTIME); }

}  // namespace shmsnap
