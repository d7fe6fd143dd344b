// shmsnap-publisher's logic: parse the command line, create the topic, feed it
// from the schema's generator at the requested rate and report once a second.
// Runs on the calling thread until done or io.stop; callable in-process by tests.
#pragma once

#include <string>
#include <vector>

#include "app_support.hpp"

namespace shmsnap::app {

/// Runs shmsnap-publisher with `args` (args[0] is the program name) and returns
/// its exit code (ExitCode). Writes `ready`, `stats` and `done` lines to io.out.
[[nodiscard]] int run_publisher(const std::vector<std::string>& args, Io& io);

}  // namespace shmsnap::app
