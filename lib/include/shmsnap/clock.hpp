// The one clock of shmsnap: CLOCK_MONOTONIC in nanoseconds, shared by every
// process on the host, so publish and receive timestamps subtract across processes.
#pragma once

#include <cstdint>

namespace shmsnap {

/// Nanoseconds on CLOCK_MONOTONIC. Callable from any thread, async-signal-safe.
[[nodiscard]] std::int64_t monotonic_ns() noexcept;

/// Nanoseconds on CLOCK_REALTIME (wall clock), for display only.
[[nodiscard]] std::int64_t realtime_ns() noexcept;

}  // namespace shmsnap
