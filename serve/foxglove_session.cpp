#include "foxglove_session.hpp"

#include <unistd.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "field_history.hpp"
#include "foxglove_history.hpp"
#include "router.hpp"
#include "shmsnap/clock.hpp"

namespace shmsnap::serve {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;

// Subscriptions one client may hold: enough for every topic many times over.
constexpr std::size_t max_subscriptions = 4096;

bool offers_subprotocol(std::string_view header) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    while (!item.empty() && item.back() == ' ') {
      item.remove_suffix(1);
    }
    if (item == foxglove::subprotocol) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    header.remove_prefix(comma + 1);
  }
  return false;
}

class FoxgloveSession : public PushClient, public std::enable_shared_from_this<FoxgloveSession> {
 public:
  FoxgloveSession(net::ip::tcp::socket socket, ConnectionSlot slot, ServerContext& context,
                  const FoxgloveChannels& channels)
      : ws_(std::move(socket)),
        slot_(std::move(slot)),
        context_(context),
        channels_(channels),
        buffer_(context.limits.max_websocket_message_bytes) {}

  void start() {
    // A small kernel send buffer: a stalled client costs about the configured limit.
    boost::system::error_code ignored;
    ws_.next_layer().socket().set_option(net::socket_base::send_buffer_size(64 * 1024), ignored);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(context_.limits.max_header_bytes));
    parser_->body_limit(0);
    ws_.next_layer().expires_after(context_.limits.header_timeout);
    http::async_read(ws_.next_layer(), buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code error, std::size_t) { self->on_upgrade(error); });
  }

  void push(const std::shared_ptr<const ModelSnapshot>& snapshot) override {
    if (!open_ || closed_ || !snapshot) {
      return;
    }
    // Keep the client's channel list equal to ours.
    std::vector<foxglove::Channel> added;
    for (const auto& [id, channel] : channels_.channels()) {
      if (advertised_.insert(id).second) {
        added.push_back(channel);
      }
    }
    std::vector<std::uint32_t> removed;
    for (auto id = advertised_.begin(); id != advertised_.end();) {
      if (channels_.channels().count(*id) == 0) {
        removed.push_back(*id);
        id = advertised_.erase(id);
      } else {
        ++id;
      }
    }
    if (!removed.empty()) {
      for (auto subscription = subscriptions_.begin(); subscription != subscriptions_.end();) {
        const bool gone = std::find(removed.begin(), removed.end(), subscription->second.channel) != removed.end();
        subscription = gone ? subscriptions_.erase(subscription) : std::next(subscription);
      }
      enqueue(false, foxglove::unadvertise(removed));
    }
    if (!added.empty()) {
      enqueue(false, foxglove::advertise(added));
    }
    const std::int64_t now_realtime = realtime_ns();
    const std::int64_t now_monotonic = monotonic_ns();
    for (auto& [subscription_id, subscription] : subscriptions_) {
      const auto channel = channels_.channels().find(subscription.channel);
      const TopicState* topic = channel == channels_.channels().end() ? nullptr : snapshot->find(channel->second.topic);
      if (topic == nullptr || topic->value_seq == 0 || topic->value.is_null() ||
          (topic->value_seq == subscription.sent_seq && topic->epoch == subscription.sent_epoch)) {
        continue;
      }
      subscription.sent_seq = topic->value_seq;
      subscription.sent_epoch = topic->epoch;
      // The publish instant on the wall clock, which Foxglove's timeline uses.
      const std::int64_t published = now_realtime - (now_monotonic - topic->value_publish_ts_ns);
      subscription.last_timestamp_ns =
          std::max(subscription.last_timestamp_ns, static_cast<std::uint64_t>(std::max<std::int64_t>(0, published)));
      enqueue(true, foxglove::message_data(
                        subscription_id, subscription.last_timestamp_ns,
                        topic->value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)));
      if (closed_) {
        return;
      }
    }
  }

 private:
  struct Subscription {
    std::uint32_t channel = 0;
    std::uint64_t sent_seq = 0;
    std::uint64_t sent_epoch = 0;
    // The newest log time sent: a channel's messages never go back in time, even
    // when two estimates of the wall-clock publish instant differ by a preemption
    // (the replayed history ends at one, the first live value starts at another).
    std::uint64_t last_timestamp_ns = 0;
  };

  void on_upgrade(beast::error_code error) {
    if (error) {
      if (error != beast::error::timeout && error != http::error::end_of_stream) {
        context_.stats.bad_requests.fetch_add(1, std::memory_order_relaxed);
        refuse("400 Bad Request", "not an HTTP request within the limits\n");
      } else {
        close();
      }
      return;
    }
    http::request<http::empty_body> request = parser_->release();
    // A client must wait for our handshake before sending frames (RFC 6455 4.1);
    // anything it sent early is dropped, never taken as the start of a message.
    buffer_.consume(buffer_.size());
    if (!websocket::is_upgrade(request)) {
      context_.stats.bad_requests.fetch_add(1, std::memory_order_relaxed);
      refuse("426 Upgrade Required", "this port speaks the Foxglove WebSocket protocol (foxglove.websocket.v1)\n");
      return;
    }
    const auto protocols = request[http::field::sec_websocket_protocol];
    if (!offers_subprotocol(std::string_view(protocols.data(), protocols.size()))) {
      context_.stats.bad_requests.fetch_add(1, std::memory_order_relaxed);
      refuse("400 Bad Request", "offer the WebSocket subprotocol foxglove.websocket.v1\n");
      return;
    }
    const auto host = request[http::field::host];
    if (!context_.allow_remote && !host_is_loopback(std::string_view(host.data(), host.size()))) {
      context_.stats.bad_requests.fetch_add(1, std::memory_order_relaxed);
      refuse("403 Forbidden", "the Host header must name a loopback address (or start with --allow-remote)\n");
      return;
    }
    const auto origin = request[http::field::origin];
    if (!context_.origins.allows(std::string_view(origin.data(), origin.size()),
                                 std::string_view(host.data(), host.size()))) {
      context_.note_refused_origin(std::string_view(origin.data(), origin.size()), "the Foxglove WebSocket");
      refuse("403 Forbidden", "a page from Origin '" + std::string(origin.data(), origin.size()) +
                                  "' may not read the topics (start the server with --allow-origin " +
                                  std::string(origin.data(), origin.size()) + " if that page is yours)\n");
      return;
    }
    if (!context_.token.empty()) {
      const auto authorization = request[http::field::authorization];
      const std::string_view header(authorization.data(), authorization.size());
      const auto query = query_parameters(std::string_view(request.target().data(), request.target().size()));
      const auto token = query.find("token");
      const bool ok = (header.substr(0, 7) == "Bearer " && token_matches(header.substr(7), context_.token)) ||
                      (token != query.end() && token_matches(token->second, context_.token));
      if (!ok) {
        context_.stats.unauthorized.fetch_add(1, std::memory_order_relaxed);
        refuse("401 Unauthorized", "this server needs its token: ws://HOST:PORT/?token=TOKEN\n");
        return;
      }
    }
    ws_.next_layer().expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = context_.limits.header_timeout;
    timeouts.idle_timeout = context_.limits.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.read_message_max(context_.limits.max_websocket_message_bytes);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(http::field::sec_websocket_protocol, std::string(foxglove::subprotocol));
      response.set(http::field::server, "shmsnap-serve");
    }));
    ws_.async_accept(request, [self = shared_from_this()](beast::error_code accept_error) {
      if (accept_error) {
        self->close();
        return;
      }
      self->open_ = true;
      self->context_.hub.add(self);
      self->enqueue(false, foxglove::server_info("shmsnap serve", std::to_string(::getpid())));
      self->push(self->context_.latest());
      self->read();
    });
  }

  // Sends the last minute of the channel's numeric fields, oldest first, before the
  // current value: Foxglove's first view of a plot then starts a minute back. It takes
  // at most half of the send buffer, so a replay never gets the client dropped.
  void replay_history(std::uint32_t subscription_id, std::uint32_t channel_id) {
    const auto channel = channels_.channels().find(channel_id);
    const std::shared_ptr<const ModelSnapshot> snapshot = context_.latest();
    const TopicState* topic =
        channel == channels_.channels().end() || !snapshot ? nullptr : snapshot->find(channel->second.topic);
    if (!context_.history || topic == nullptr || topic->value_seq == 0 || !topic->value.is_object()) {
      return;
    }
    const std::optional<nlohmann::ordered_json> history = context_.history(
        channel->second.topic, std::chrono::duration_cast<std::chrono::seconds>(FieldHistory::fine_span));
    if (!history) {
      return;
    }
    const std::int64_t current_published = realtime_ns() - (monotonic_ns() - topic->value_publish_ts_ns);
    const std::size_t half = context_.limits.max_send_buffer_bytes / 2;
    const std::size_t budget = half > queued_bytes_ ? half - queued_bytes_ : 0;
    for (foxglove::ReplayedMessage& message :
         foxglove::history_messages(*history, topic->value, current_published, budget)) {
      subscriptions_[subscription_id].last_timestamp_ns = message.timestamp_ns;  // oldest first
      enqueue(true, foxglove::message_data(subscription_id, message.timestamp_ns, std::move(message.json)));
    }
  }

  void refuse(const char* status, const std::string& body) {
    auto text = std::make_shared<std::string>(std::string("HTTP/1.1 ") + status +
                                              "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
                                              std::to_string(body.size()) + "\r\n\r\n" + body);
    ws_.next_layer().expires_after(context_.limits.write_timeout);
    net::async_write(ws_.next_layer(), net::buffer(*text),
                     [self = shared_from_this(), text](beast::error_code, std::size_t) { self->close(); });
  }

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code error, std::size_t) {
      if (error) {
        if (error == websocket::error::message_too_big) {
          self->context_.stats.bad_requests.fetch_add(1, std::memory_order_relaxed);
        }
        self->close();
        return;
      }
      self->on_message();
      self->buffer_.consume(self->buffer_.size());
      if (!self->closed_) {
        self->read();
      }
    });
  }

  void on_message() {
    if (!ws_.got_text()) {
      enqueue(false, foxglove::status(foxglove::StatusLevel::error,
                                      "binary client messages are not supported: this server is read-only"));
      return;
    }
    const auto data = buffer_.data();
    const foxglove::ClientMessage message =
        foxglove::parse_client_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
    switch (message.kind) {
      case foxglove::ClientMessage::Kind::subscribe:
        for (const auto& [subscription_id, channel_id] : message.subscriptions) {
          if (advertised_.count(channel_id) == 0) {
            enqueue(false, foxglove::status(foxglove::StatusLevel::warning,
                                            "no channel " + std::to_string(channel_id) + " is advertised"));
          } else if (subscriptions_.size() >= max_subscriptions && subscriptions_.count(subscription_id) == 0) {
            enqueue(false, foxglove::status(foxglove::StatusLevel::error, "too many subscriptions"));
          } else {
            subscriptions_[subscription_id] = Subscription{.channel = channel_id};
            replay_history(subscription_id, channel_id);
          }
        }
        push(context_.latest());  // the current value at once, not at the next sample
        break;
      case foxglove::ClientMessage::Kind::unsubscribe:
        for (const std::uint32_t id : message.subscription_ids) {
          subscriptions_.erase(id);
        }
        break;
      case foxglove::ClientMessage::Kind::unsupported:
      case foxglove::ClientMessage::Kind::invalid:
        context_.stats.bad_requests.fetch_add(1, std::memory_order_relaxed);
        enqueue(false, foxglove::status(foxglove::StatusLevel::error, message.problem));
        break;
    }
  }

  void enqueue(bool binary, std::string data) {
    if (closed_) {
      return;
    }
    if (queued_bytes_ + data.size() > context_.limits.max_send_buffer_bytes) {
      // The client does not read what it asked for: drop it rather than buffer without bound.
      context_.stats.slow_clients_dropped.fetch_add(1, std::memory_order_relaxed);
      close();
      return;
    }
    queued_bytes_ += data.size();
    queue_.push_back(Outgoing{binary, std::move(data)});
    if (!writing_) {
      write_next();
    }
  }

  void write_next() {
    if (queue_.empty() || closed_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    ws_.binary(queue_.front().binary);
    ws_.async_write(net::buffer(queue_.front().data),
                    [self = shared_from_this()](beast::error_code error, std::size_t) {
                      if (error) {
                        self->close();
                        return;
                      }
                      self->queued_bytes_ -= self->queue_.front().data.size();
                      self->queue_.pop_front();
                      self->write_next();
                    });
  }

  void close() {
    if (closed_) {
      return;
    }
    closed_ = true;
    beast::error_code ignored;
    (void)beast::get_lowest_layer(ws_).socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  struct Outgoing {
    bool binary = false;
    std::string data;
  };

  websocket::stream<beast::tcp_stream> ws_;
  ConnectionSlot slot_;
  ServerContext& context_;
  const FoxgloveChannels& channels_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::deque<Outgoing> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool open_ = false;
  bool closed_ = false;
  std::set<std::uint32_t> advertised_;
  std::map<std::uint32_t, Subscription> subscriptions_;
};

}  // namespace

void start_foxglove_session(net::ip::tcp::socket socket, ConnectionSlot slot, ServerContext& context,
                            const FoxgloveChannels& channels) {
  std::make_shared<FoxgloveSession>(std::move(socket), std::move(slot), context, channels)->start();
}

}  // namespace shmsnap::serve
