// The `shmsnap` admin CLI: inspects topics as a reader (list, dump, watch), removes
// dead publishers' and subscribers' leftovers (clean), and pokes at POSIX message
// queues and shared memory directly (mq ..., shm ...). Runs on the calling thread.
#pragma once

#include <string>
#include <vector>

#include "app_support.hpp"

namespace shmsnap::app {

/// Runs `shmsnap` with `args` (args[0] is the program name); returns its exit code.
[[nodiscard]] int run_admin(const std::vector<std::string>& args, Io& io);

}  // namespace shmsnap::app
