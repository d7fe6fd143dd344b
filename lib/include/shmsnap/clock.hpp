// The one clock of shmsnap: CLOCK_MONOTONIC in nanoseconds, shared by every
// process on the host, so publish and receive timestamps subtract across processes.
#pragma once

#include <chrono>
#include <cstdint>

namespace shmsnap {

/// Nanoseconds on CLOCK_MONOTONIC. Callable from any thread, async-signal-safe.
[[nodiscard]] std::int64_t monotonic_ns() noexcept;

/// monotonic_ns() + timeout, saturating: wait(nanoseconds::max()) means "forever".
[[nodiscard]] std::int64_t monotonic_deadline(std::chrono::nanoseconds timeout) noexcept;

/// Milliseconds left until `deadline_ns`, for epoll/poll: 0 when past, at most INT_MAX.
[[nodiscard]] int milliseconds_until(std::int64_t deadline_ns) noexcept;

/// Nanoseconds on CLOCK_REALTIME (wall clock), for display only.
[[nodiscard]] std::int64_t realtime_ns() noexcept;

}  // namespace shmsnap
