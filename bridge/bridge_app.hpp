// shmsnap-bridge's command line: `export`, `import` and `run --config FILE`,
// building a BridgeConfig from flags or TOML and running a Bridge until SIGINT or
// SIGTERM; SIGUSR1 prints the counters. Called from main() or from tests (Io).
#pragma once

#include <string>
#include <vector>

#include "app_support.hpp"

namespace shmsnap::app {

/// Runs shmsnap-bridge with `args` (args[0] is the program name). Returns an ExitCode.
[[nodiscard]] int run_bridge(const std::vector<std::string>& args, Io& io);

/// Installs the SIGUSR1 handler that makes run_bridge print its counters.
void install_counter_signal() noexcept;

}  // namespace shmsnap::app
