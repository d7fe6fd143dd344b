// The one clock every latency in shmsnap-bench is measured with: CLOCK_MONOTONIC in
// nanoseconds, which is system-wide, so a publisher's stamp and a subscriber's
// reading are comparable across processes. Callable from any thread or process.
#pragma once

#include <cstdint>
#include <ctime>

namespace shmsnap::bench {

/// CLOCK_MONOTONIC now, in nanoseconds (vDSO, no syscall).
[[nodiscard]] inline std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// Tells the core that the caller is in a spin-wait, so the sibling hyper-thread
/// and the memory system are not starved while it polls.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace shmsnap::bench
