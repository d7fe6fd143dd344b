// Options of `shmsnap serve` and the endpoint ("host:port") parsing shared by its
// listeners. Parsing and validation run once at startup on the calling thread;
// the checked Options are then read-only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shmsnap::serve {

/// An IPv4/IPv6 address and a TCP port, as given on the command line.
struct Endpoint {
  std::string host;        ///< "127.0.0.1", "::1", "0.0.0.0"
  std::uint16_t port = 0;  ///< 0 = the kernel picks a free port (tests)
};

/// Bounds that keep one client from costing the server more than its share.
struct Limits {
  std::size_t max_header_bytes = 8 * 1024;      ///< request line + headers
  std::size_t max_connections = 64;             ///< HTTP and WebSocket clients together, per listener
  std::size_t max_send_buffer_bytes = 1 << 20;  ///< queued push data per client; beyond it the client is dropped
  std::size_t max_websocket_message_bytes = 64 * 1024;  ///< largest frame a Foxglove client may send
  std::chrono::seconds header_timeout{10};              ///< a request's headers must arrive within this
  std::chrono::seconds idle_timeout{60};                ///< keep-alive connection without a request
  std::chrono::seconds write_timeout{10};               ///< one response or push write must drain within this
};

/// Everything `shmsnap serve` is configured with.
struct Options {
  Endpoint listen{"127.0.0.1", 9464};
  std::string prefix;     ///< "" = $SHMSNAP_PREFIX or "shmsnap"
  bool foxglove = false;  ///< serve the Foxglove WebSocket endpoint
  Endpoint foxglove_listen{"127.0.0.1", 8765};
  bool allow_remote = false;  ///< permit a non-loopback bind address
  std::string token;          ///< "" = no token; else required as "Authorization: Bearer T" or ?token=T
  /// Origins (SCHEME://HOST[:PORT]) of pages served elsewhere that may read data; the
  /// server's own page and clients that send no Origin are always allowed.
  std::vector<std::string> allow_origins;
  std::chrono::milliseconds sample_period{100};  ///< how often topics are read and pushed
  Limits limits;
};

/// Parses "host:port", "[v6]:port" or ":port" (loopback). Throws Error{invalid_argument}
/// naming the text and the expected form.
[[nodiscard]] Endpoint parse_endpoint(std::string_view text);

/// Throws Error{invalid_argument} unless `origin` is SCHEME://HOST[:PORT] as a
/// browser sends it (no path, no '*'), naming the text and the expected form.
void validate_origin(std::string_view origin);

/// True for 127.0.0.0/8 and ::1 (and "localhost").
[[nodiscard]] bool is_loopback(std::string_view host);

/// Checks `options` as a whole: a non-loopback address needs allow_remote, the token's
/// characters, the form of each allowed origin. Throws Error{invalid_argument} that says what to change.
void validate(const Options& options);

}  // namespace shmsnap::serve
