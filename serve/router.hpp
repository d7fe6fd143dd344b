// The HTTP routes of `shmsnap serve`, independent of sockets: a parsed request in,
// a reply (or "start an event stream") out. Read-only: GET and HEAD only. The data
// routes (/metrics, /api/..., /events) need the token when one is set and refuse a
// browser page from another origin; the page and its scripts hold no data and are
// served to anyone who reaches the port.
// Pure apart from reading the snapshot and stats it is given; any thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics.hpp"
#include "origin_policy.hpp"
#include "request_query.hpp"
#include "topic_model.hpp"

namespace shmsnap::serve {

/// What the router needs to know about one request.
struct Request {
  std::string_view method;         ///< "GET", ...
  std::string_view target;         ///< path and query, e.g. "/events?topic=a"
  std::string_view authorization;  ///< the Authorization header, "" when absent
  std::string_view host;           ///< the Host header, "" when absent
  std::string_view origin;         ///< the Origin header, "" when absent
};

/// A complete HTTP response.
struct Reply {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
};

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
};

/// Routes one request. Never throws for any input.
[[nodiscard]] Route route(const Request& request, const RouteContext& context);

}  // namespace shmsnap::serve
