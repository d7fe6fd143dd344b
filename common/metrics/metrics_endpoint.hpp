// MetricsEndpoint: a Prometheus registry served as GET /metrics (text format 0.0.4)
// on its own thread, through the bounded listener and session of common/http. The
// owner registers and updates metrics on any thread (prometheus-cpp's metrics are
// thread-safe) while a scrape collects them on the endpoint's thread.
#pragma once

#include <memory>

#include <prometheus/registry.h>

#include "endpoint.hpp"

namespace shmsnap::metrics {

/// The content type of the Prometheus text exposition (format 0.0.4).
inline constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

class MetricsEndpoint {
 public:
  /// Binds `endpoint` (loopback unless `allow_remote`; `what` is the option it came
  /// from, for errors) and starts serving `registry`. Throws Error (invalid_argument,
  /// busy, permission_denied) naming the address and the fix.
  MetricsEndpoint(const http::Endpoint& endpoint, bool allow_remote, const char* what,
                  std::shared_ptr<prometheus::Registry> registry);
  /// Stops the endpoint's thread; a scrape in progress is cut off.
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  /// The bound address (the real port when 0 was asked for).
  [[nodiscard]] http::Endpoint endpoint() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace shmsnap::metrics
