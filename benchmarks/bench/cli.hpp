// Command line of shmsnap-bench: parses the public options (and the hidden subscriber
// role), runs the matrix and writes the outputs. Main thread of the process.
#pragma once

namespace shmsnap::bench {

/// The whole program; returns the exit code: 0 all rows ran clean, 1 a row failed or
/// saw a torn read, 2 bad command line or output error.
[[nodiscard]] int run_cli(int argc, char** argv);

}  // namespace shmsnap::bench
