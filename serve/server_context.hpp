// What every listener and session of one `shmsnap serve` shares: the limits, the
// token, the counters, the push hub and the newest sample. Owned by Server and
// outliving its I/O context; used on the I/O thread (stats are atomics, so a
// scrape may read them from anywhere).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "metrics.hpp"
#include "push_hub.hpp"
#include "router.hpp"
#include "serve_options.hpp"
#include "topic_model.hpp"

namespace shmsnap::serve {

struct ServerContext {
  Limits limits;
  std::string token;
  bool allow_remote = false;  ///< false: requests must name a loopback host (DNS rebinding guard)
  ServerStats stats;
  PushHub hub;
  /// The newest sample (never null).
  std::function<std::shared_ptr<const ModelSnapshot>()> latest;
  /// Answers one HTTP request (the dashboard's router, or a metrics-only one).
  std::function<Route(const Request&)> handle;
};

/// Holds one of a listener's connection places for as long as a session lives.
class ConnectionSlot {
 public:
  ConnectionSlot(std::shared_ptr<std::size_t> open, ServerStats& stats) : open_(std::move(open)), stats_(&stats) {
    ++*open_;
    stats_->connections_open.fetch_add(1, std::memory_order_relaxed);
  }
  ~ConnectionSlot() {
    if (open_) {
      --*open_;
      stats_->connections_open.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  ConnectionSlot(ConnectionSlot&& other) noexcept : open_(std::move(other.open_)), stats_(other.stats_) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::shared_ptr<std::size_t> open_;
  ServerStats* stats_;
};

}  // namespace shmsnap::serve
