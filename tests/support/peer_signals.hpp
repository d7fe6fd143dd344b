// The signals a test peer (shmsnap-test-peer) reacts to. main() routes them here
// before any role runs; the roles read the flags from their own loops, never act
// in a handler. What SIGUSR1 and SIGUSR2 mean is up to the role (peer_roles.hpp).
#pragma once

#include <signal.h>

namespace shmsnap::test {

/// Set by SIGTERM or SIGINT: every role winds down and exits 0.
inline volatile sig_atomic_t stop_requested = 0;
/// Set by SIGUSR1; a role that acts on it more than once clears it each time.
inline volatile sig_atomic_t usr1_received = 0;
/// Set by SIGUSR2; a role that acts on it more than once clears it each time.
inline volatile sig_atomic_t usr2_received = 0;

/// Installs the handlers that set the flags above.
inline void catch_peer_signals() {
  signal(SIGTERM, [](int) { stop_requested = 1; });
  signal(SIGINT, [](int) { stop_requested = 1; });
  signal(SIGUSR1, [](int) { usr1_received = 1; });
  signal(SIGUSR2, [](int) { usr2_received = 1; });
}

}  // namespace shmsnap::test
