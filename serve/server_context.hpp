// What every listener and session of one `shmsnap serve` shares: the limits, the
// token, the counters, the push hub and the newest sample. Owned by Server and
// outliving its I/O context; used on the I/O thread (stats are atomics, so a
// scrape may read them from anywhere).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "connection.hpp"
#include "http_session.hpp"
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
  /// A topic's field history (TopicSampler::history_json).
  std::function<std::optional<nlohmann::ordered_json>(const std::string&, std::chrono::seconds)> history;
  /// Answers one HTTP request of the dashboard port (the router, an event stream).
  http::Handler handle;

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

using http::ConnectionSlot;

}  // namespace shmsnap::serve
