// What every listener and session of one `shmsnap serve` shares: the limits, the
// token, the counters, the push hub and the newest sample. Owned by Server and
// outliving its I/O context; used on the I/O thread (stats are atomics, so a
// scrape may read them from anywhere).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "metrics.hpp"
#include "origin_policy.hpp"
#include "push_hub.hpp"
#include "router.hpp"
#include "serve_options.hpp"
#include "topic_model.hpp"

namespace shmsnap::serve {

struct ServerContext {
  Limits limits;
  std::string token;
  bool allow_remote = false;  ///< false: requests must name a loopback host (DNS rebinding guard)
  OriginPolicy origins;       ///< which web pages may read data (cross-site WebSocket hijacking guard)
  ServerStats stats;
  PushHub hub;
  /// The newest sample (never null).
  std::function<std::shared_ptr<const ModelSnapshot>()> latest;
  /// Answers one HTTP request (the dashboard's router, or a metrics-only one).
  std::function<Route(const Request&)> handle;

  /// Counts a request refused for its Origin and logs it, at most once a second (a
  /// hostile page may retry in a loop). I/O thread only.
  void note_refused_origin(std::string_view origin, std::string_view where) {
    stats.origin_refused.fetch_add(1, std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_origin_log_ < std::chrono::seconds(1)) {
      ++unlogged_origin_refusals_;
      return;
    }
    std::cerr << "shmsnap serve: refused " << where << " from Origin '" << origin
              << "': a page on another site may not read the topics; if that page is yours, start the server with "
                 "--allow-origin "
              << origin;
    if (unlogged_origin_refusals_ > 0) {
      std::cerr << " (" << unlogged_origin_refusals_ << " more refused since the last report)";
    }
    std::cerr << std::endl;
    last_origin_log_ = now;
    unlogged_origin_refusals_ = 0;
  }

 private:
  std::chrono::steady_clock::time_point last_origin_log_{};
  std::uint64_t unlogged_origin_refusals_ = 0;
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
