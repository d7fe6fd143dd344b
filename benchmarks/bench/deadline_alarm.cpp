// SIGALRM-based interruption of blocking calls (see deadline_alarm.hpp).
#include "bench/deadline_alarm.hpp"

#include <signal.h>
#include <sys/time.h>

#include <algorithm>

#include "bench/clock.hpp"

namespace shmsnap::bench {
namespace {

void on_alarm(int /*signal_number*/) {}

timeval to_timeval(std::int64_t ns) noexcept {
  return timeval{.tv_sec = static_cast<time_t>(ns / 1'000'000'000),
                 .tv_usec = static_cast<suseconds_t>((ns % 1'000'000'000) / 1000)};
}

}  // namespace

DeadlineAlarm::DeadlineAlarm(std::int64_t deadline_ns) noexcept {
  struct sigaction action {};
  action.sa_handler = on_alarm;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: the point is that blocked calls return EINTR
  sigaction(SIGALRM, &action, nullptr);
  const std::int64_t first = std::max<std::int64_t>(deadline_ns - monotonic_ns(), 1000);
  const itimerval timer{.it_interval = to_timeval(50'000'000), .it_value = to_timeval(first)};
  setitimer(ITIMER_REAL, &timer, nullptr);
}

DeadlineAlarm::~DeadlineAlarm() {
  const itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
}

}  // namespace shmsnap::bench
