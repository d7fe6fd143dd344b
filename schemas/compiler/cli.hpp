// The shmsnap-schemac command line, as a function so tests drive it in-process
// exactly as the binary runs it. Single-threaded; writes only under --out-dir.
#pragma once

#include <ostream>

namespace shmsnap::schemac {

/// Exit status of run_schemac.
enum ExitCode : int {
  exit_ok = 0,
  exit_schema_error = 1,  ///< a schema failed to compile, or an output could not be written
  exit_usage = 2,         ///< bad command line
};

/// Runs `shmsnap-schemac FILE.toml... (--out-dir DIR | --check) [options]`.
/// Diagnostics go to `err`, requested printouts to `out`.
[[nodiscard]] int run_schemac(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace shmsnap::schemac
