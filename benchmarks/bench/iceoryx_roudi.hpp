// The iceoryx daemon (iox-roudi) for shmsnap-bench's iceoryx rows: found on PATH,
// started with a configuration file of the bench's own (mempools sized for the run's
// payloads and subscriber counts, 4 MiB chunks included), and stopped at process exit,
// after this process's iceoryx runtime has unregistered. iceoryx 2.0 allows one RouDi
// per machine, so one that the bench did not start makes the iceoryx rows n/a.
// Orchestrator main thread only.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>

namespace shmsnap::bench::iceoryx {

/// What the run will ask of the mempools.
struct MempoolPlan {
  std::span<const std::size_t> payloads;  ///< every payload size of the run
  int max_subscribers = 1;                ///< the largest subscriber count of the run
};

/// Chunks one subscriber queue holds in a row of `payload` bytes and `subscribers`
/// subscribers: deep (256, iceoryx's maximum) for small messages so a subscriber that
/// is descheduled for a moment loses nothing, shallower for large ones so that all
/// queues together stay within 256 MiB; never below 4. The oldest is dropped when full.
[[nodiscard]] int queue_capacity_for(std::size_t payload, int subscribers) noexcept;

/// Full path of iox-roudi on PATH, or nullopt.
[[nodiscard]] std::optional<std::string> find_roudi_binary();

/// The pid of a running iox-roudi (from /proc), or nullopt.
[[nodiscard]] std::optional<pid_t> running_roudi();

/// The TOML configuration for `plan`: one segment, one mempool per payload size with
/// room for a chunk header, enough chunks for every queue to be full at once.
[[nodiscard]] std::string roudi_config(const MempoolPlan& plan);

/// Starts iox-roudi with roudi_config(plan) once per process and waits until it
/// accepts clients. Throws std::runtime_error naming the cause (binary missing, a
/// foreign RouDi running, start-up failure with its log tail). Later calls return at
/// once. The daemon is stopped (SIGTERM, wait, then SIGKILL) when the process exits.
void ensure_roudi(const MempoolPlan& plan);

/// True once ensure_roudi() started our own daemon.
[[nodiscard]] bool roudi_started_here() noexcept;

/// Records a runtime name a process of this run registers under (this process and
/// each subscriber), so that its socket and lock file in /tmp are removed at exit
/// even if the process was killed, and on an interrupted run.
void track_runtime_name(const std::string& name);

}  // namespace shmsnap::bench::iceoryx
