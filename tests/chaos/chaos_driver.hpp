// The chaos soak of shmsnap-chaos: one publisher process feeding a topic at a high
// rate, K subscriber processes, and a seeded driver that SIGKILLs and restarts
// the publisher (also mid-write, through the library's fault hook), SIGKILLs,
// restarts, SIGSTOPs and SIGCONTs subscribers, then checks the invariants.
// Runs in the calling (single-threaded) process; children are the soak roles of
// shmsnap-test-peer, fork/exec'd through tests/support/process_runner.
#pragma once

#include <cstdint>
#include <string>

namespace shmsnap::chaos {

/// What to run; filled from the command line.
struct ChaosOptions {
  double duration_s = 60.0;  ///< whole run; faults fill all but its last ~5 s
  std::uint64_t seed = 0;    ///< 0 = derive from the clock (printed either way)
  int subscribers = 8;
  long long rate = 10'000;           ///< paced publishes per second between faults
  std::string bin_dir;               ///< where shmsnap-test-peer lives
  std::string prefix;                ///< "" = unique per run
  double converge_bound_s = 20.0;    ///< how long subscribers get to reach the final snapshot
  std::string clean_with = "admin";  ///< after the kill-all: "admin" (admin::clean) or "restart"
};

/// Runs the soak; prints progress and, as its last stdout line, the figures as
/// name=value pairs. Returns 0 only when every invariant held.
int run_chaos(const ChaosOptions& options);

}  // namespace shmsnap::chaos
