#include "metrics_endpoint.hpp"

#include <string>
#include <thread>

#include <prometheus/text_serializer.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "http_session.hpp"
#include "listener.hpp"

namespace shmsnap::metrics {

namespace net = boost::asio;

// Member order is destruction order in reverse: the thread is joined before the
// listener and the session state it runs go away.
struct MetricsEndpoint::State {
  std::shared_ptr<prometheus::Registry> registry;
  http::Limits limits;
  http::Stats stats;
  http::Handler handle;
  net::io_context io;  // the owner's thread posts into it, so no single-thread hint
  std::shared_ptr<http::Listener> listener;
  std::thread thread;
};

MetricsEndpoint::MetricsEndpoint(const http::Endpoint& endpoint, bool allow_remote, const char* what,
                                 std::shared_ptr<prometheus::Registry> registry)
    : state_(std::make_unique<State>()) {
  http::require_loopback_unless_allowed(endpoint, allow_remote);
  State& state = *state_;
  state.registry = std::move(registry);
  state.handle = [registry = state.registry](const http::Request& request) {
    http::Reply reply;
    const std::string_view path = request.target.substr(0, request.target.find('?'));
    if (request.method != "GET" && request.method != "HEAD") {
      reply.status = 405;
      reply.body = "read-only: GET /metrics\n";
    } else if (path != "/metrics") {
      reply.status = 404;
      reply.body = "only /metrics here\n";
    } else {
      reply.content_type = content_type;
      reply.body = prometheus::TextSerializer().Serialize(registry->Collect());
    }
    return http::Answer{.reply = std::move(reply), .take_over = {}};
  };
  state.listener = std::make_shared<http::Listener>(state.io, endpoint, state.limits, state.stats, what,
                                                    [&state](net::ip::tcp::socket socket, http::ConnectionSlot slot) {
                                                      http::start_http_session(std::move(socket), std::move(slot),
                                                                               state.limits, state.stats, state.handle);
                                                    });
  state.listener->start();
  state.thread = std::thread([&state] { state.io.run(); });
}

MetricsEndpoint::~MetricsEndpoint() {
  net::post(state_->io, [&state = *state_] { state.listener->close(); });
  state_->io.stop();
  state_->thread.join();
}

http::Endpoint MetricsEndpoint::endpoint() const {
  const auto bound = state_->listener->local_endpoint();
  return http::Endpoint{bound.address().to_string(), bound.port()};
}

}  // namespace shmsnap::metrics
