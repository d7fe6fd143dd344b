// Options of `shmsnap serve` (the endpoints and their HTTP limits come from
// common/http). Validation runs once at startup on the calling thread; the checked
// Options are then read-only.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "endpoint.hpp"

namespace shmsnap::serve {

using http::Endpoint;
using http::is_loopback;
using http::parse_endpoint;

/// Bounds that keep one client from costing the server more than its share: the
/// HTTP ones, and those of the pushes (event stream, Foxglove WebSocket).
struct Limits : http::Limits {
  std::size_t max_send_buffer_bytes = 1 << 20;  ///< queued push data per client; beyond it the client is dropped
  std::size_t max_websocket_message_bytes = 64 * 1024;  ///< largest frame a Foxglove client may send
};

/// Everything `shmsnap serve` is configured with.
struct Options {
  Endpoint listen{"127.0.0.1", 9464};
  std::string prefix;      ///< "" = $SHMSNAP_PREFIX or "shmsnap"
  std::string socket_dir;  ///< socket mode: the topics of DIR/<topic>.sock; "" = the prefix's names
  bool foxglove = false;   ///< serve the Foxglove WebSocket endpoint
  Endpoint foxglove_listen{"127.0.0.1", 8765};
  bool allow_remote = false;  ///< permit a non-loopback bind address
  std::string token;          ///< "" = no token; else required as "Authorization: Bearer T" or ?token=T
  /// Origins (SCHEME://HOST[:PORT]) of pages served elsewhere that may read data; the
  /// server's own page and clients that send no Origin are always allowed.
  std::vector<std::string> allow_origins;
  std::chrono::milliseconds sample_period{100};  ///< how often topics are read and pushed
  Limits limits;
};

/// Throws Error{invalid_argument} unless `origin` is SCHEME://HOST[:PORT] as a
/// browser sends it (no path, no '*'), naming the text and the expected form.
void validate_origin(std::string_view origin);

/// Checks `options` as a whole: a non-loopback address needs allow_remote, the token's
/// characters, the form of each allowed origin. Throws Error{invalid_argument} that says what to change.
void validate(const Options& options);

}  // namespace shmsnap::serve
