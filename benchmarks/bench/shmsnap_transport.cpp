// The system under test: shmsnap's Publisher<T>/Subscriber<T> carrying BenchPayload<N>,
// in notify, spin or hybrid wait mode. Latest-state semantics: a subscriber that falls
// behind gets the newest snapshot and the harness counts the rest as skipped.
#include <mqueue.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <new>
#include <optional>
#include <stdexcept>

#include "bench/aligned_buffer.hpp"
#include "bench/bench_payload.hpp"
#include "bench/cleanup.hpp"
#include "bench/clock.hpp"
#include "bench/transport.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/subscriber.hpp"

namespace shmsnap::bench {
namespace {

constexpr std::string_view topic = "bench";

// Built with append: GCC 12 raises a false -Wrestrict on `"s" + std::string` (bug 105329).
std::string subscriber_id(int index) {
  std::string id("s");
  id.append(std::to_string(index));
  return id;
}

WaitMode parse_mode(const std::string& mode) {
  if (mode == "notify")
    return WaitMode::notify;
  if (mode == "spin")
    return WaitMode::spin;
  if (mode == "hybrid")
    return WaitMode::hybrid;
  throw std::invalid_argument("shmsnap mode must be notify, spin or hybrid, not '" + mode + "'");
}

// Every name the library will create for this configuration, so an interrupted run
// still removes them (the library removes them itself on every normal path).
std::vector<std::pair<cleanup::NameKind, std::string>> resource_names(const ChannelSpec& spec) {
  const TopicNames names(spec.run_name, topic);
  std::vector<std::pair<cleanup::NameKind, std::string>> all{{cleanup::NameKind::shm, names.region()},
                                                             {cleanup::NameKind::posix_mq, names.control_queue()}};
  for (int index = 0; index < spec.subscribers; ++index) {
    all.emplace_back(cleanup::NameKind::posix_mq, names.notify_queue(subscriber_id(index)));
  }
  return all;
}

template <std::size_t N>
class ShmsnapPublisher final : public PublisherChannel {
  using Payload = BenchPayload<N>;

 public:
  explicit ShmsnapPublisher(const ChannelSpec& spec)
      : names_(resource_names(spec)), storage_(sizeof(Payload)), value_(new (storage_.data()) Payload{}) {
    for (const auto& [kind, name] : names_)
      cleanup::track(kind, name);
    PublisherOptions options;
    options.prefix = spec.run_name;
    options.max_subscribers = static_cast<std::uint32_t>(std::max(64, spec.subscribers));
    try {
      publisher_.emplace(Publisher<Payload>::create(topic, options));
    } catch (const Error& error) {
      forget_names();
      throw std::runtime_error(std::string("shmsnap Publisher::create: ") + error.what());
    }
  }

  ~ShmsnapPublisher() override {
    publisher_.reset();
    forget_names();
  }

  std::span<std::byte> buffer() noexcept override { return storage_.span(); }
  std::string endpoint(int index) const override { return subscriber_id(index); }
  bool publish(DeadlineNs /*deadline*/) noexcept override {
    publisher_->publish(*value_);
    return true;
  }

 private:
  // After the library's own clean-up these unlinks find nothing; they matter only
  // when a subscriber was killed before it could remove its queue.
  void forget_names() noexcept {
    for (const auto& [kind, name] : names_) {
      if (kind == cleanup::NameKind::shm) {
        shm_unlink(name.c_str());
      } else {
        mq_unlink(name.c_str());
      }
      cleanup::untrack(kind, name);
    }
  }

  std::vector<std::pair<cleanup::NameKind, std::string>> names_;
  AlignedBuffer storage_;
  Payload* value_;  // the harness stamps storage_ as bytes; this is the same object typed
  std::optional<Publisher<Payload>> publisher_;
};

template <std::size_t N>
class ShmsnapSubscriber final : public SubscriberChannel {
  using Payload = BenchPayload<N>;

 public:
  ShmsnapSubscriber(const ChannelSpec& spec, const std::string& id) : subscriber_(open(spec, id)) {
    // Captures `this`: the channel lives behind a unique_ptr and never moves.
    subscriber_.on_update([this](const Payload& value, const UpdateInfo& /*info*/) {
      const std::int64_t received_ns = monotonic_ns();
      // A zero snapshot is the state before the first publish, not a bench message.
      if (value.seq == 0)
        return;
      delivered_ = true;
      (*sink_)(std::span<const std::byte>(reinterpret_cast<const std::byte*>(&value), sizeof value), received_ns);
    });
  }

  ReceiveStatus receive(const MessageSink& sink, DeadlineNs deadline) override {
    sink_ = &sink;
    delivered_ = false;
    while (!delivered_) {
      const std::int64_t left = deadline - monotonic_ns();
      if (left <= 0)
        return ReceiveStatus::timed_out;
      // Bounded slices keep the deadline honest in every wait mode.
      subscriber_.wait(std::chrono::nanoseconds(std::min<std::int64_t>(left, 100'000'000)));
    }
    return ReceiveStatus::delivered;
  }

  std::uint64_t retries() const noexcept override { return subscriber_.stats().retries; }

 private:
  static Subscriber<Payload> open(const ChannelSpec& spec, const std::string& id) {
    SubscriberOptions options;
    options.prefix = spec.run_name;
    options.id = id;
    options.mode = parse_mode(spec.mode);
    try {
      return Subscriber<Payload>::open(topic, options);
    } catch (const Error& error) {
      throw std::runtime_error(std::string("shmsnap Subscriber::open: ") + error.what());
    }
  }

  Subscriber<Payload> subscriber_;
  const MessageSink* sink_ = nullptr;
  bool delivered_ = false;
};

std::string supported_sizes() {
  std::string text;
  for (std::size_t size : bench_payload_sizes) {
    if (!text.empty())
      text += ',';
    text += std::to_string(size);
  }
  return text;
}

class ShmsnapTransport final : public Transport {
 public:
  std::string_view name() const noexcept override { return "shmsnap"; }
  std::vector<std::string> modes(std::span<const std::string> requested) const override {
    std::vector<std::string> modes;
    for (const auto& mode : requested) {
      parse_mode(mode);
      modes.push_back(mode);
    }
    return modes;
  }
  std::optional<std::string> not_applicable(const ChannelSpec& spec) const override {
    if (visit_payload_size(spec.payload_bytes, []<std::size_t>() {}))
      return std::nullopt;
    std::string why("shmsnap transport is compiled for payloads ");
    return why.append(supported_sizes()).append(" only");
  }
  // Hybrid spins up to SubscriberOptions::hybrid_spin per wait, which at bench rates is
  // a large share of a core: it is flagged like spin.
  bool busy_waits(std::string_view mode) const noexcept override { return mode != "notify"; }

  std::unique_ptr<PublisherChannel> create_publisher(const ChannelSpec& spec) const override {
    std::unique_ptr<PublisherChannel> channel;
    visit_payload_size(spec.payload_bytes,
                       [&]<std::size_t N>() { channel = std::make_unique<ShmsnapPublisher<N>>(spec); });
    return channel;
  }
  std::unique_ptr<SubscriberChannel> open_subscriber(const ChannelSpec& spec, int /*index*/,
                                                     const std::string& endpoint) const override {
    std::unique_ptr<SubscriberChannel> channel;
    visit_payload_size(spec.payload_bytes,
                       [&]<std::size_t N>() { channel = std::make_unique<ShmsnapSubscriber<N>>(spec, endpoint); });
    return channel;
  }
};

}  // namespace

std::unique_ptr<Transport> make_shmsnap_transport() {
  return std::make_unique<ShmsnapTransport>();
}

}  // namespace shmsnap::bench
