// Listener: accepts TCP connections on one endpoint and hands each to a session
// factory, refusing (closing at once) any beyond Limits::max_connections so a
// flood of connections costs a bounded amount. I/O thread only.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "connection.hpp"
#include "endpoint.hpp"

namespace shmsnap::http {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  using SessionFactory = std::function<void(boost::asio::ip::tcp::socket, ConnectionSlot)>;

  /// Binds and listens on `endpoint`. Throws Error (busy: address in use; permission_denied;
  /// invalid_argument) naming the address and what to do.
  /// `limits` and `stats` must outlive the listener and every session it starts;
  /// `what` names the option the address came from in errors ("--listen").
  Listener(boost::asio::io_context& io, const Endpoint& endpoint, const Limits& limits, Stats& stats, const char* what,
           SessionFactory factory);

  /// Starts accepting.
  void start();
  /// Stops accepting; open sessions finish on their own.
  void close();
  /// The bound address (the real port when 0 was asked for).
  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;  // pauses accepting after EMFILE and the like
  const Limits& limits_;
  Stats& stats_;
  SessionFactory factory_;
  std::shared_ptr<std::size_t> open_ = std::make_shared<std::size_t>(0);
};

}  // namespace shmsnap::http
