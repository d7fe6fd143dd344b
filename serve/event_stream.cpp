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
    enqueue(Kind::preamble,
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
    enqueue_topics(snapshot);
    if (!topic_.empty()) {
      const TopicState* topic = snapshot->find(topic_);
      if (topic == nullptr) {
        if (!sent_missing_) {
          enqueue(Kind::value, event("value", Json{{"topic", topic_}, {"missing", true}}));
          sent_missing_ = true;
        }
      } else if (!sent_value_ || topic->value_seq != sent_seq_ || topic->epoch != sent_epoch_ ||
                 topic->stale != sent_stale_) {
        sent_value_ = true;
        sent_missing_ = false;
        sent_seq_ = topic->value_seq;
        sent_epoch_ = topic->epoch;
        sent_stale_ = topic->stale;
        enqueue(Kind::value, event("value", Json{{"topic", topic->name},
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
  // What an event says: the newest of a kind makes an older unsent one worthless.
  enum class Kind { preamble, topics, value };

  struct Outgoing {
    Kind kind = Kind::preamble;
    std::string text;
    // A "topics" event is written out only when its turn comes: serializing every
    // topic of every sample for a client that reads slowly would be wasted work.
    std::shared_ptr<const ModelSnapshot> snapshot;
  };

  // The one waiting (not being written) event of `kind`, if any.
  Outgoing* waiting(Kind kind) {
    for (std::size_t index = writing_ ? 1 : 0; index < queue_.size(); ++index) {
      if (queue_[index].kind == kind) {
        return &queue_[index];
      }
    }
    return nullptr;
  }

  void enqueue_topics(const std::shared_ptr<const ModelSnapshot>& snapshot) {
    if (closed_) {
      return;
    }
    if (Outgoing* older = waiting(Kind::topics); older != nullptr) {
      older->snapshot = snapshot;
      context_.stats.events_conflated.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(Outgoing{Kind::topics, {}, snapshot});
    if (!writing_) {
      write_next();
    }
  }

  void enqueue(Kind kind, std::string text) {
    if (closed_) {
      return;
    }
    // Latest state, as everywhere in shmsnap: an event of the same kind that still
    // waits (not the one being written) is replaced, so a client that reads slowly
    // (a busy browser with 500 topics) gets fewer updates instead of a growing
    // backlog that would get it dropped.
    Outgoing* older = kind == Kind::preamble ? nullptr : waiting(kind);
    const std::size_t replaced_bytes = older != nullptr ? older->text.size() : 0;
    if (queued_bytes_ - replaced_bytes + text.size() > context_.limits.max_send_buffer_bytes) {
      // Even one event of each kind is over the limit: drop the client rather than buffer more.
      context_.stats.slow_clients_dropped.fetch_add(1, std::memory_order_relaxed);
      close();
      return;
    }
    queued_bytes_ = queued_bytes_ - replaced_bytes + text.size();
    if (older != nullptr) {
      older->text = std::move(text);
      context_.stats.events_conflated.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(Outgoing{kind, std::move(text)});
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
    Outgoing& next = queue_.front();
    if (next.snapshot) {
      next.text = event("topics", topics_json(*next.snapshot));
      next.snapshot.reset();
      if (queued_bytes_ + next.text.size() > context_.limits.max_send_buffer_bytes) {
        context_.stats.slow_clients_dropped.fetch_add(1, std::memory_order_relaxed);
        close();
        return;
      }
      queued_bytes_ += next.text.size();
    }
    stream_.expires_after(context_.limits.write_timeout);
    net::async_write(stream_, net::buffer(queue_.front().text),
                     [self = shared_from_this()](beast::error_code error, std::size_t) {
                       if (error) {
                         if (error == beast::error::timeout) {
                           self->context_.stats.slow_clients_dropped.fetch_add(1, std::memory_order_relaxed);
                         }
                         self->close();
                         return;
                       }
                       self->queued_bytes_ -= self->queue_.front().text.size();
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
  std::deque<Outgoing> queue_;
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
