// shmsnap-subscriber's logic: follow the latest state of one or more topics from
// one event loop (Poller over UntypedSubscribers, so any schema works),
// print each refresh (JSON or rate-limited text), report publisher loss and
// re-attach, and summarise latency at exit. Runs on the calling thread until
// --count is reached, a timeout expires or io.stop is set.
#pragma once

#include <string>
#include <vector>

#include "app_support.hpp"

namespace shmsnap::app {

/// Runs shmsnap-subscriber with `args` (args[0] is the program name); returns its
/// exit code (ExitCode). Refreshes go to io.out, status, logs and the summary to io.err.
[[nodiscard]] int run_subscriber_daemon(const std::vector<std::string>& args, Io& io);

/// True when this build tells systemd about readiness (sd_notify through libsystemd).
[[nodiscard]] bool systemd_notify_built_in() noexcept;

}  // namespace shmsnap::app
