#include "listener.hpp"

#include <boost/asio/write.hpp>

#include "shmsnap/error.hpp"

namespace shmsnap::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(net::io_context& io, const Endpoint& endpoint, const Limits& limits, Stats& stats, const char* what,
                   SessionFactory factory)
    : acceptor_(io), retry_timer_(io), limits_(limits), stats_(stats), factory_(std::move(factory)) {
  const std::string name = std::string(what) + " address " + endpoint.host + ":" + std::to_string(endpoint.port);
  boost::system::error_code error;
  const tcp::endpoint bound(net::ip::make_address(endpoint.host, error), endpoint.port);
  if (error) {
    throw Error(Errc::invalid_argument, name + ": not a numeric IP address");
  }
  const auto fail = [&](const char* step) {
    if (error == net::error::address_in_use) {
      throw Error(Errc::busy, name + " is in use by another process; pick another port", error.value());
    }
    if (error == net::error::access_denied) {
      throw Error(Errc::permission_denied, name + ": ports below 1024 need privileges; pick a higher port",
                  error.value());
    }
    throw Error(Errc::system, name + ": " + step + " failed: " + error.message(), error.value());
  };
  if (acceptor_.open(bound.protocol(), error)) {
    fail("socket");
  }
  (void)acceptor_.set_option(net::socket_base::reuse_address(true), error);
  if (acceptor_.bind(bound, error)) {
    fail("bind");
  }
  if (acceptor_.listen(net::socket_base::max_listen_connections, error)) {
    fail("listen");
  }
}

void Listener::start() {
  accept();
}

void Listener::close() {
  boost::system::error_code ignored;
  (void)acceptor_.close(ignored);
}

tcp::endpoint Listener::local_endpoint() const {
  return acceptor_.local_endpoint();
}

void Listener::accept() {
  acceptor_.async_accept([self = shared_from_this()](boost::system::error_code error, tcp::socket socket) {
    if (error == net::error::operation_aborted || !self->acceptor_.is_open()) {
      return;
    }
    if (!error) {
      if (*self->open_ >= self->limits_.max_connections) {
        // Over the limit: a one-line answer if the socket takes it at once, then close.
        self->stats_.connections_refused.fetch_add(1, std::memory_order_relaxed);
        boost::system::error_code ignored;
        socket.non_blocking(true, ignored);
        static constexpr char busy[] =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        (void)socket.write_some(net::buffer(busy, sizeof busy - 1), ignored);
        socket.close(ignored);
      } else {
        self->stats_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
        self->factory_(std::move(socket), ConnectionSlot(self->open_, self->stats_));
      }
    }
    if (error) {
      // EMFILE and the like: retrying at once would spin; try again shortly.
      self->retry_timer_.expires_after(std::chrono::milliseconds(100));
      self->retry_timer_.async_wait([self](boost::system::error_code) { self->accept(); });
      return;
    }
    self->accept();
  });
}

}  // namespace shmsnap::http
