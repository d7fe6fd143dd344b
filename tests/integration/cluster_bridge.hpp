// A Bridge on a JetStream cluster that has just started: shared by the bridge tests
// that run a 3-node cluster.
#pragma once

#include <memory>

#include "bridge.hpp"
#include "nats_server.hpp"
#include "shmsnap/error.hpp"
#include "support/fixture.hpp"

namespace shmsnap::test {

/// A bridge once the cluster has elected its JetStream leader and the bucket can be
/// bound or created (the nodes meet, then elect: retried up to `patience`);
/// nullptr if it never could.
inline std::unique_ptr<bridge::Bridge> bridge_when_cluster_ready(const bridge::BridgeConfig& config) {
  std::unique_ptr<bridge::Bridge> made;
  (void)eventually(
      [&] {
        try {
          made = std::make_unique<bridge::Bridge>(config);
          return true;
        } catch (const Error&) {
          return false;
        }
      },
      patience);
  return made;
}

}  // namespace shmsnap::test
