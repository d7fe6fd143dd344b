// shmsnap-test-peer: the publisher or subscriber process that the multi-process
// tests and the chaos soak fork/exec. Its roles are in peer_roles.hpp.
#include "support/peer_cli.hpp"
#include "support/peer_roles.hpp"
#include "support/peer_signals.hpp"

int main(int argc, char** argv) {
  namespace test = shmsnap::test;
  test::catch_peer_signals();
  return test::run_peer(argc, argv, "shmsnap-test-peer",
                        {{"publisher", test::run_scripted_publisher},
                         {"subscriber", test::run_scripted_subscriber},
                         {"soak-publisher", test::run_soak_publisher},
                         {"soak-subscriber", test::run_soak_subscriber},
                         {"fleet-publisher", test::run_fleet_publisher}});
}
