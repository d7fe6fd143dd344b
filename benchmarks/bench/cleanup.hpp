// Every OS object shmsnap-bench creates (POSIX queues, shm segments, SysV queues,
// child processes) is recorded here, so it is removed on a normal return, on an
// exception and on SIGINT/SIGTERM/SIGHUP. track/untrack run on the orchestrator's
// main thread; remove_everything() is async-signal-safe.
#pragma once

#include <sys/types.h>
#include <string_view>

namespace shmsnap::bench::cleanup {

/// What a recorded name refers to. A `leftover` is a path in the file system that a
/// killed process leaves behind (an iceoryx socket or lock file, the RouDi config
/// directory): removed only when the run is interrupted, since on a normal exit its
/// owner removes it in order.
enum class NameKind { posix_mq, shm, leftover };

/// Records a named object to unlink at the end. Names longer than 255 bytes are refused
/// by the OS anyway and are not recorded.
void track(NameKind kind, std::string_view name) noexcept;
/// Forgets a name after its owner removed it.
void untrack(NameKind kind, std::string_view name) noexcept;
/// Records a SysV message queue id (IPC_RMID at the end).
void track_sysv_queue(int id) noexcept;
/// Forgets a SysV queue id after its owner removed it.
void untrack_sysv_queue(int id) noexcept;
/// Records a child process to SIGKILL if the run is interrupted.
void track_child(pid_t pid) noexcept;
/// Forgets a reaped child.
void untrack_child(pid_t pid) noexcept;
/// Records a daemon the bench started (iox-roudi) to SIGTERM, not SIGKILL, if the run
/// is interrupted by a signal, so that it removes its own shared memory on the way out.
void track_service(pid_t pid) noexcept;
/// Forgets a stopped daemon.
void untrack_service(pid_t pid) noexcept;

/// Kills tracked children and removes every tracked object. Async-signal-safe.
/// Leaves tracked services alone: on a normal exit their owner stops them in order.
void remove_everything() noexcept;

/// SIGTERMs every tracked service (so it cleans up after itself) and removes every
/// tracked leftover (files first, then directories). Async-signal-safe; called by the
/// signal handlers before remove_everything().
void terminate_services() noexcept;

/// SIGINT, SIGTERM and SIGHUP remove everything, then end the process with 128+signal.
/// SIGPIPE is ignored so a dead subscriber shows up as EPIPE rather than a silent exit.
void install_signal_handlers() noexcept;

}  // namespace shmsnap::bench::cleanup
