#include "http_session.hpp"

#include <memory>
#include <optional>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace shmsnap::http {
namespace {

namespace beast = boost::beast;
namespace beast_http = beast::http;
namespace net = boost::asio;

// A GET carries no body; a few bytes are tolerated, more is refused.
constexpr std::uint64_t max_body_bytes = 1024;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(net::ip::tcp::socket socket, ConnectionSlot slot, const Limits& limits, Stats& stats,
              const Handler& handler)
      : stream_(std::move(socket)),
        slot_(std::move(slot)),
        limits_(limits),
        stats_(stats),
        handler_(handler),
        buffer_(limits.max_header_bytes + max_body_bytes) {}

  void start() { read(limits_.header_timeout); }

 private:
  void read(std::chrono::seconds timeout) {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser_->body_limit(max_body_bytes);
    // The whole request must arrive within the timeout: a client dribbling bytes
    // (slowloris) is closed, not waited for.
    stream_.expires_after(timeout);
    beast_http::async_read(stream_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code error, std::size_t) { self->on_read(error); });
  }

  void on_read(beast::error_code error) {
    if (error == beast_http::error::end_of_stream || error == beast::error::timeout || error == net::error::eof ||
        error == net::error::connection_reset || error == net::error::operation_aborted) {
      close();
      return;
    }
    if (error) {
      stats_.bad_requests.fetch_add(1, std::memory_order_relaxed);
      Reply reply;
      if (error == beast_http::error::header_limit || error == beast::error_code(beast_http::error::buffer_overflow)) {
        reply.status = 431;
        reply.body = "request headers too large (limit " + std::to_string(limits_.max_header_bytes) + " bytes)\n";
      } else if (error == beast_http::error::body_limit) {
        reply.status = 413;
        reply.body = "request body not allowed\n";
      } else {
        reply.status = 400;
        reply.body = "malformed request: " + error.message() + "\n";
      }
      write(std::move(reply), false, false);
      return;
    }
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    const auto& request = parser_->get();
    const auto authorization = request[beast_http::field::authorization];
    const auto host = request[beast_http::field::host];
    const auto origin = request[beast_http::field::origin];
    const std::string method(request.method_string());
    Answer answer =
        handler_(Request{method, std::string_view(request.target().data(), request.target().size()),
                         std::string_view(authorization.data(), authorization.size()),
                         std::string_view(host.data(), host.size()), std::string_view(origin.data(), origin.size())});
    if (answer.take_over) {
      stream_.expires_never();
      answer.take_over(std::move(stream_), std::move(slot_));
      return;
    }
    if (!answer.reply) {
      answer.reply = Reply{.status = 404, .body = "not found\n"};
    }
    if (answer.reply->status == 401) {
      stats_.unauthorized.fetch_add(1, std::memory_order_relaxed);
    }
    write(std::move(*answer.reply), request.keep_alive(), method == "HEAD");
  }

  void write(Reply reply, bool keep_alive, bool head_only) {
    auto response = std::make_shared<beast_http::response<beast_http::string_body>>();
    response->version(11);
    response->result(reply.status);
    response->set(beast_http::field::server, "shmsnap");
    response->set(beast_http::field::content_type, reply.content_type);
    response->set("X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : reply.headers) {
      response->set(name, value);
    }
    response->keep_alive(keep_alive);
    const std::size_t length = reply.body.size();
    if (!head_only) {
      response->body() = std::move(reply.body);
    }
    response->content_length(length);
    stream_.expires_after(limits_.write_timeout);
    beast_http::async_write(stream_, *response,
                            [self = shared_from_this(), response, keep_alive](beast::error_code error, std::size_t) {
                              if (error) {
                                if (error == beast::error::timeout) {
                                  self->stats_.slow_clients_dropped.fetch_add(1, std::memory_order_relaxed);
                                }
                                self->close();
                              } else if (keep_alive) {
                                self->read(self->limits_.idle_timeout);
                              } else {
                                self->close();
                              }
                            });
  }

  void close() {
    beast::error_code ignored;
    (void)stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  ConnectionSlot slot_;
  const Limits& limits_;
  Stats& stats_;
  const Handler& handler_;
  beast::flat_buffer buffer_;
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
};

}  // namespace

void start_http_session(net::ip::tcp::socket socket, ConnectionSlot slot, const Limits& limits, Stats& stats,
                        const Handler& handler) {
  std::make_shared<HttpSession>(std::move(socket), std::move(slot), limits, stats, handler)->start();
}

}  // namespace shmsnap::http
