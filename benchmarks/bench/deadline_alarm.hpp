// Bounds the natural blocking calls (read, write, msgsnd, msgrcv, mq_send, ...) without
// changing them: while armed, SIGALRM fires at the deadline and then every 50 ms, and
// its handler is installed without SA_RESTART, so a blocked call returns EINTR and the
// caller checks its deadline. The repeat closes the race of a signal landing just
// before the call blocks. One per process, main thread only.
#pragma once

#include <cstdint>

namespace shmsnap::bench {

/// RAII: armed for its lifetime.
class DeadlineAlarm {
 public:
  /// Arms the alarm for absolute CLOCK_MONOTONIC `deadline_ns`.
  explicit DeadlineAlarm(std::int64_t deadline_ns) noexcept;
  ~DeadlineAlarm();
  DeadlineAlarm(const DeadlineAlarm&) = delete;
  DeadlineAlarm& operator=(const DeadlineAlarm&) = delete;
};

}  // namespace shmsnap::bench
