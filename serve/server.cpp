#include "server.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "event_stream.hpp"
#include "foxglove_channels.hpp"
#include "foxglove_session.hpp"
#include "http_session.hpp"
#include "listener.hpp"
#include "server_context.hpp"
#include "topic_sampler.hpp"

namespace shmsnap::serve {

namespace net = boost::asio;

namespace {

Endpoint to_endpoint(const net::ip::tcp::endpoint& endpoint) {
  return Endpoint{endpoint.address().to_string(), endpoint.port()};
}

}  // namespace

// Member order is destruction order in reverse: the sampler thread (which posts
// into io) stops first, the context outlives every session the io_context holds.
struct Server::State {
  ServerContext context;
  FoxgloveChannels channels;
  net::io_context io;  // the sampler thread posts into it, so no single-thread hint
  std::shared_ptr<http::Listener> http;
  std::shared_ptr<http::Listener> foxglove;
  std::unique_ptr<TopicSampler> sampler;
};

Server::Server(const Options& options) : state_(std::make_unique<State>()) {
  validate(options);
  State& state = *state_;
  state.context.limits = options.limits;
  state.context.token = options.token;
  state.context.allow_remote = options.allow_remote;
  state.http = std::make_shared<http::Listener>(
      state.io, options.listen, state.context.limits, state.context.stats, "--listen",
      [&context = state.context](net::ip::tcp::socket socket, ConnectionSlot slot) {
        http::start_http_session(std::move(socket), std::move(slot), context.limits, context.stats, context.handle);
      });
  if (options.foxglove) {
    state.foxglove = std::make_shared<http::Listener>(
        state.io, options.foxglove_listen, state.context.limits, state.context.stats, "--foxglove",
        [&state](net::ip::tcp::socket socket, ConnectionSlot slot) {
          start_foxglove_session(std::move(socket), std::move(slot), state.context, state.channels);
        });
  }
  // The ports are known once bound (a port of 0 is the kernel's choice): the pages
  // this server's listeners serve, on the loopback names, are its own.
  std::vector<std::uint16_t> ports{state.http->local_endpoint().port()};
  if (state.foxglove) {
    ports.push_back(state.foxglove->local_endpoint().port());
  }
  state.context.origins = OriginPolicy(options.allow_origins, ports);
  auto hand_on = [&state](std::shared_ptr<const ModelSnapshot> snapshot) {
    net::post(state.io, [&state, snapshot = std::move(snapshot)] {
      state.channels.update(*snapshot);
      state.context.stats.descriptor_parses.store(state.channels.descriptor_parses(), std::memory_order_relaxed);
      state.context.hub.broadcast(snapshot);
    });
  };
  state.sampler =
      std::make_unique<TopicSampler>(options.prefix, options.socket_dir, options.sample_period, std::move(hand_on));
  state.context.latest = [sampler = state.sampler.get()] { return sampler->latest(); };
  state.context.history = [sampler = state.sampler.get()](const std::string& topic, std::chrono::seconds window) {
    return sampler->history_json(topic, window);
  };
  state.context.handle = [&context = state.context](const Request& request) {
    Route routed = route(request, RouteContext{context.latest(), &context.stats, context.token, !context.allow_remote,
                                               &context.origins, context.history});
    if (routed.origin_refused) {
      context.note_refused_origin(request.origin, request.target);
    }
    http::Answer answer{.reply = std::move(routed.reply), .take_over = {}};
    if (routed.event_stream) {
      answer.take_over = [&context, topic = std::move(routed.selected_topic)](boost::beast::tcp_stream stream,
                                                                              ConnectionSlot slot) mutable {
        start_event_stream(std::move(stream), std::move(slot), context, std::move(topic));
      };
    }
    return answer;
  };
}

Server::~Server() {
  stop();
  state_->sampler.reset();
}

void Server::run(const std::atomic<bool>& stop_requested) {
  State& state = *state_;
  state.http->start();
  if (state.foxglove) {
    state.foxglove->start();
  }
  // The CLI's signal handler only sets a flag (async-signal-safe); look at it here.
  net::steady_timer stop_timer(state.io);
  std::function<void()> watch_stop = [&] {
    stop_timer.expires_after(std::chrono::milliseconds(100));
    stop_timer.async_wait([&](boost::system::error_code error) {
      if (error) {
        return;
      }
      if (stop_requested.load(std::memory_order_relaxed)) {
        stop();
      } else {
        watch_stop();
      }
    });
  };
  watch_stop();
  state.io.run();
}

void Server::stop() {
  net::post(state_->io, [&state = *state_] {
    state.http->close();
    if (state.foxglove) {
      state.foxglove->close();
    }
  });
  state_->io.stop();
}

Endpoint Server::http_endpoint() const {
  return to_endpoint(state_->http->local_endpoint());
}

std::optional<Endpoint> Server::foxglove_endpoint() const {
  if (!state_->foxglove) {
    return std::nullopt;
  }
  return to_endpoint(state_->foxglove->local_endpoint());
}

}  // namespace shmsnap::serve
