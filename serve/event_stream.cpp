#include "event_stream.hpp"

#include <deque>
#include <memory>

#include <boost/asio/write.hpp>

namespace shmsnap::serve {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using Json = nlohmann::ordered_json;

std::string event(std::string_view name, const Json& data) {
  std::string text = "event: ";
  text += name;
  text += "\ndata: ";
  // One line of JSON: SSE ends a field at a newline.
  text += data.dump(-1, ' ', false, Json::error_handler_t::replace);
  text += "\n\n";
  return text;
}

class EventStream : public PushClient, public std::enable_shared_from_this<EventStream> {
 public:
  EventStream(beast::tcp_stream stream, ConnectionSlot slot, ServerContext& context, std::string topic)
      : stream_(std::move(stream)), slot_(std::move(slot)), context_(context), topic_(std::move(topic)) {}

  void start() {
    // A small kernel buffer too: what a stalled client costs stays near the
    // configured limit instead of the megabytes loopback autotuning allows.
    boost::system::error_code ignored;
    stream_.socket().set_option(net::socket_base::send_buffer_size(64 * 1024), ignored);
    enqueue(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\nConnection: keep-alive\r\n\r\n"
        "retry: 1000\n\n");
    push(context_.latest());
    // A read that completes only when the client closes (or sends junk): then stop.
    // On the raw socket: the stream's write timeout must not apply to this wait.
    stream_.socket().async_read_some(net::buffer(discard_),
                                     [self = shared_from_this()](beast::error_code, std::size_t) { self->close(); });
  }

  void push(const std::shared_ptr<const ModelSnapshot>& snapshot) override {
    if (closed_ || !snapshot) {
      return;
    }
    enqueue(event("topics", topics_json(*snapshot)));
    if (!topic_.empty()) {
      const TopicState* topic = snapshot->find(topic_);
      if (topic == nullptr) {
        if (!sent_missing_) {
          enqueue(event("value", Json{{"topic", topic_}, {"missing", true}}));
          sent_missing_ = true;
        }
      } else if (!sent_value_ || topic->value_seq != sent_seq_ || topic->epoch != sent_epoch_ ||
                 topic->stale != sent_stale_) {
        sent_value_ = true;
        sent_missing_ = false;
        sent_seq_ = topic->value_seq;
        sent_epoch_ = topic->epoch;
        sent_stale_ = topic->stale;
        enqueue(event("value", Json{{"topic", topic->name},
                                    {"seq", topic->value_seq},
                                    {"epoch", topic->epoch},
                                    {"stale", topic->stale},
                                    {"sampled_realtime_ns", snapshot->sampled_realtime_ns},
                                    {"value", topic->value},
                                    {"fields", field_notes_json(*topic)}}));
      }
    }
  }

 private:
  void enqueue(std::string text) {
    if (closed_) {
      return;
    }
    if (queued_bytes_ + text.size() > context_.limits.max_send_buffer_bytes) {
      // The client does not read fast enough: drop it; buffering would grow without bound.
      context_.stats.slow_clients_dropped.fetch_add(1, std::memory_order_relaxed);
      close();
      return;
    }
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
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
    stream_.expires_after(context_.limits.write_timeout);
    net::async_write(stream_, net::buffer(queue_.front()),
                     [self = shared_from_this()](beast::error_code error, std::size_t) {
                       if (error) {
                         if (error == beast::error::timeout) {
                           self->context_.stats.slow_clients_dropped.fetch_add(1, std::memory_order_relaxed);
                         }
                         self->close();
                         return;
                       }
                       self->queued_bytes_ -= self->queue_.front().size();
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
    (void)stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  ConnectionSlot slot_;
  ServerContext& context_;
  std::string topic_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  bool sent_value_ = false;
  bool sent_missing_ = false;
  std::uint64_t sent_seq_ = 0;
  std::uint64_t sent_epoch_ = 0;
  bool sent_stale_ = false;
  char discard_[256];
};

}  // namespace

void start_event_stream(beast::tcp_stream stream, ConnectionSlot slot, ServerContext& context,
                        std::string selected_topic) {
  auto session = std::make_shared<EventStream>(std::move(stream), std::move(slot), context, std::move(selected_topic));
  context.hub.add(session);
  session->start();
}

}  // namespace shmsnap::serve
