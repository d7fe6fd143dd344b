// SubscriberMetrics: what `shmsnap-subscriber --metrics ADDR` exposes: the daemon's
// counters per topic and its delivery latency as a Prometheus histogram, served as
// GET /metrics by common/metrics' MetricsEndpoint (the same bounded listener and
// session as `shmsnap serve`) on its own thread. record_*() are called on the daemon's thread;
// prometheus-cpp's metrics are thread-safe, so the scrape reads them concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "endpoint.hpp"

namespace shmsnap::app {

class SubscriberMetrics {
 public:
  /// Binds `endpoint` (loopback unless `allow_remote`) and starts serving. Throws Error
  /// (invalid_argument, busy, permission_denied) naming the address and the fix.
  SubscriberMetrics(const http::Endpoint& endpoint, bool allow_remote, const std::string& subscriber_id);
  /// Stops the endpoint's thread.
  ~SubscriberMetrics();
  SubscriberMetrics(const SubscriberMetrics&) = delete;
  SubscriberMetrics& operator=(const SubscriberMetrics&) = delete;

  /// One delivered snapshot of `topic` with its receive - publish latency.
  void record_refresh(const std::string& topic, std::int64_t latency_ns, std::uint64_t skipped, bool stale);
  /// `topic` is followed (attached) or not (waiting for a publisher, or lost it).
  void record_attached(const std::string& topic, bool attached);
  /// The bound address (the real port when 0 was asked for).
  [[nodiscard]] http::Endpoint endpoint() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace shmsnap::app
