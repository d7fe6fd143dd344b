// Starting and reaping the subscriber processes, and CPU pinning. Orchestrator main
// thread only: spawn_process() forks, and the child calls only async-signal-safe
// functions before exec, so it is safe even while library threads run.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace shmsnap::bench {

/// Absolute path of the running executable (/proc/self/exe), so children are this binary.
[[nodiscard]] std::string self_executable();

/// Forks and execs `argv` (argv[0] is the path). The descriptors in `inherit` survive
/// exec (everything else the bench opens is O_CLOEXEC). With `cpu` >= 0 the child is
/// pinned there before exec. The child is tracked for cleanup. Throws on fork failure.
[[nodiscard]] pid_t spawn_process(const std::vector<std::string>& argv, std::span<const int> inherit, int cpu);

/// Waits until `pid` exits or `deadline_ns` (monotonic) passes, then SIGKILLs it.
/// Returns the wait status, or -1 when it had to be killed.
int reap_process(pid_t pid, std::int64_t deadline_ns) noexcept;

/// Number of CPUs this process may run on.
[[nodiscard]] int usable_cpus() noexcept;

/// Pins the calling thread to `cpu`; the previous mask is restored by the destructor.
class ScopedPin {
 public:
  /// cpu < 0 pins nothing.
  explicit ScopedPin(int cpu) noexcept;
  ~ScopedPin();
  ScopedPin(const ScopedPin&) = delete;
  ScopedPin& operator=(const ScopedPin&) = delete;

 private:
  bool pinned_ = false;
  std::vector<unsigned char> saved_;  // a cpu_set_t, kept opaque to keep <sched.h> out of the header
};

}  // namespace shmsnap::bench
