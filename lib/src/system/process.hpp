// Process identity and liveness: a pid plus its start time names one process
// even after the pid is reused. Callable from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace shmsnap::detail {

/// Start time of `pid` in clock ticks since boot (/proc/<pid>/stat field 22), or 0
/// when the process does not exist or /proc is unreadable.
[[nodiscard]] std::uint64_t process_start_time(pid_t pid) noexcept;

/// True while the process `pid` that started at `start_time` runs. A start_time of
/// 0 skips the reuse check.
[[nodiscard]] bool process_alive(pid_t pid, std::uint64_t start_time) noexcept;

/// Effective user of `pid` (owner of /proc/<pid>), or (uid_t)-1 when unknown.
[[nodiscard]] uid_t process_owner(pid_t pid) noexcept;

/// A pollable descriptor that becomes readable when `pid` exits, or -1 where the
/// kernel has no pidfd_open (before 5.3) or the process is gone.
[[nodiscard]] int open_pidfd(pid_t pid) noexcept;

/// True when a pidfd (from open_pidfd) reports its process has exited. Never blocks.
[[nodiscard]] bool pidfd_exited(int pidfd) noexcept;

/// "pid 123", or for 0 (what SO_PEERCRED shows of a process in a PID namespace
/// this one cannot see) "pid unknown here (another PID namespace)": for messages.
[[nodiscard]] std::string pid_text(pid_t pid);

}  // namespace shmsnap::detail
