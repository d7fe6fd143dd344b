// The HTTP routes of `shmsnap serve`, independent of sockets: a parsed request in,
// a reply (or "start an event stream") out. Read-only: GET and HEAD only. The data
// routes (/metrics, /api/..., /events) need the token when one is set and refuse a
// browser page from another origin; the page and its scripts hold no data and are
// served to anyone who reaches the port.
// Pure apart from reading the snapshot and stats it is given; any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_session.hpp"
#include "metrics.hpp"
#include "origin_policy.hpp"
#include "request_query.hpp"
#include "topic_model.hpp"

namespace shmsnap::serve {

using http::Reply;
using http::Request;

/// Where a request goes.
struct Route {
  std::optional<Reply> reply;   ///< set for every ordinary request
  bool event_stream = false;    ///< true: upgrade to Server-Sent Events
  std::string selected_topic;   ///< the event stream's ?topic= ("" = none)
  bool origin_refused = false;  ///< refused (403) for its Origin: the caller counts and logs it
};

/// Everything a route reads.
struct RouteContext {
  std::shared_ptr<const ModelSnapshot> model;
  const ServerStats* stats = nullptr;
  std::string_view token;  ///< "" = no token required
  /// Answer only requests addressed to a loopback name: a web page the user visits
  /// cannot then reach the server through a DNS name rebound to 127.0.0.1.
  bool loopback_only = true;
  /// Which pages may read the data routes; nullptr = any (a metrics-only endpoint).
  const OriginPolicy* origins = nullptr;
  /// A topic's recorded field history over a window (TopicSampler::history_json);
  /// empty = /api/topics/T/history answers 404.
  std::function<std::optional<nlohmann::ordered_json>(const std::string& topic, std::chrono::seconds window)> history;
};

/// Routes one request. Never throws for any input.
[[nodiscard]] Route route(const Request& request, const RouteContext& context);

}  // namespace shmsnap::serve
