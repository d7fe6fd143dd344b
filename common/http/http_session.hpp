// HttpSession: one HTTP/1.1 connection of a listener. Reads each request within
// Limits (header bytes, header and idle timeouts), asks the caller's Handler for the
// answer, writes it, and hands the connection over when the answer says so (an
// event stream). A client that sends garbage gets 400 and is closed; one that
// stalls is closed by its timer. I/O thread only.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "connection.hpp"

namespace shmsnap::http {

/// What a handler needs to know about one request. The views live until the handler returns.
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

/// The handler's answer: a reply, or the connection taken over (with its slot) by
/// another protocol; neither is a 404.
struct Answer {
  std::optional<Reply> reply;
  std::function<void(boost::beast::tcp_stream, ConnectionSlot)> take_over;
};

/// Answers one request; called on the I/O thread, must not throw.
using Handler = std::function<Answer(const Request&)>;

/// Starts serving `socket` (owning `slot` for its lifetime). `limits`, `stats` and
/// `handler` must outlive the session (the listener's owner keeps them).
void start_http_session(boost::asio::ip::tcp::socket socket, ConnectionSlot slot, const Limits& limits, Stats& stats,
                        const Handler& handler);

}  // namespace shmsnap::http
