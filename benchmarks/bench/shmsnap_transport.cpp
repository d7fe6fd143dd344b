// The system under test: shmsnap's Publisher<T>/Subscriber<T> carrying BenchPayload<N>,
// in notify, spin or hybrid wait mode, attached by the topic's names ("shmsnap") or
// through the publisher's Unix socket with the region a sealed memfd ("shmsnap-sock"). Latest-state semantics: a
// subscriber that falls behind gets the newest snapshot and the harness counts the rest as skipped.
// Variable-size rows (ChannelSpec::used_bytes < N) publish only the message's used
// prefix (publish(value, used) / Loan::publish(used)) and the subscriber checks only
// what UpdateInfo::used_bytes or SnapshotMeta::used_bytes says was published.
#include <mqueue.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <new>
#include <optional>
#include <stdexcept>

#include "bench/aligned_buffer.hpp"
#include "bench/bench_payload.hpp"
#include "bench/cleanup.hpp"
#include "bench/clock.hpp"
#include "bench/payload.hpp"
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

// A mode is "<wait>[-thread][-zc]": the subscriber's WaitMode; "-thread" moves the
// fan-out onto the publisher's notifier thread (FanOut::notifier_thread); "-zc" is
// zero-copy on both sides, as iceoryx: the harness stamps the message straight into
// the next slot (Publisher::loan) and the subscriber reads it in place
// (Subscriber::read_in_place), busy-polling the published sequence, so spin only.
struct ModeSpec {
  WaitMode wait = WaitMode::notify;
  FanOut fan_out = FanOut::caller;
  bool zero_copy = false;
};

ModeSpec parse_mode(std::string mode) {
  const std::string full = mode;
  ModeSpec spec;
  auto strip = [&](std::string_view suffix) {
    if (!mode.ends_with(suffix))
      return false;
    mode.resize(mode.size() - suffix.size());
    return true;
  };
  spec.zero_copy = strip("-zc");
  if (strip("-thread"))
    spec.fan_out = FanOut::notifier_thread;
  if (mode == "notify") {
    spec.wait = WaitMode::notify;
  } else if (mode == "spin") {
    spec.wait = WaitMode::spin;
  } else if (mode == "hybrid") {
    spec.wait = WaitMode::hybrid;
  } else {
    throw std::invalid_argument("shmsnap mode must be notify, spin or hybrid, optionally with -thread and -zc, not '" +
                                full + "'");
  }
  if (spec.zero_copy && spec.wait != WaitMode::spin)
    throw std::invalid_argument("shmsnap mode '" + full + "': zero-copy (-zc) reads busy-poll, so only spin-zc exists");
  return spec;
}

// Socket mode: the run's socket directory, the same in the publisher's process and
// in each subscriber's; "" in named mode.
std::string socket_dir_of(const ChannelSpec& spec, bool socket_mode) {
  return socket_mode ? "/tmp/shmsnap-bench-" + spec.run_name : std::string();
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
  ShmsnapPublisher(const ChannelSpec& spec, bool socket_mode)
      : socket_dir_(socket_dir_of(spec, socket_mode)),
        names_(resource_names(spec)),
        storage_(sizeof(Payload)),
        value_(new (storage_.data()) Payload{}),
        used_bytes_(spec.used_bytes),
        zero_copy_(parse_mode(spec.mode).zero_copy) {
    for (const auto& [kind, name] : names_)
      cleanup::track(kind, name);
    PublisherOptions options;
    options.prefix = spec.run_name;
    options.max_subscribers = static_cast<std::uint32_t>(std::max(64, spec.subscribers));
    options.fan_out = parse_mode(spec.mode).fan_out;
    if (spec.slot_count != 0)
      options.slot_count = spec.slot_count;
    options.socket_dir = socket_dir_;
    if (!socket_dir_.empty())
      std::filesystem::create_directories(socket_dir_);
    try {
      publisher_.emplace(Publisher<Payload>::create(topic, options));
    } catch (const Error& error) {
      forget_names();
      throw std::runtime_error(std::string("shmsnap Publisher::create: ") + error.what());
    }
  }

  ~ShmsnapPublisher() override {
    loan_.reset();
    publisher_.reset();
    forget_names();
    if (!socket_dir_.empty()) {
      std::error_code ignored;  // the socket is gone with the publisher; its lock file stays
      std::filesystem::remove_all(socket_dir_, ignored);
    }
  }

  // Zero-copy: the message is written into the loaned next slot, as an iceoryx
  // producer writes into its loaned chunk; readers follow the published slot only.
  std::span<std::byte> buffer() noexcept override {
    if (!zero_copy_)
      return storage_.span();
    if (!loan_)
      loan_.emplace(publisher_->loan());
    return {reinterpret_cast<std::byte*>(&**loan_), sizeof(Payload)};
  }
  std::string endpoint(int index) const override { return subscriber_id(index); }
  bool publish(DeadlineNs /*deadline*/) noexcept override {
    if (zero_copy_) {
      if (!loan_)
        buffer();
      loan_->publish(used_bytes_);
      loan_.reset();
      return true;
    }
    publisher_->publish(*value_, used_bytes_);
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

  std::string socket_dir_;
  std::vector<std::pair<cleanup::NameKind, std::string>> names_;
  AlignedBuffer storage_;
  Payload* value_;          // the harness stamps storage_ as bytes; this is the same object typed
  std::size_t used_bytes_;  // the prefix of each message published (N for whole messages)
  bool zero_copy_;
  std::optional<Publisher<Payload>> publisher_;
  std::optional<Loan<Payload>> loan_;  // zero-copy: the slot the next publish() publishes
};

template <std::size_t N>
class ShmsnapSubscriber final : public SubscriberChannel {
  using Payload = BenchPayload<N>;

 public:
  ShmsnapSubscriber(const ChannelSpec& spec, const std::string& id, bool socket_mode)
      : subscriber_(open(spec, id, socket_dir_of(spec, socket_mode))), zero_copy_(parse_mode(spec.mode).zero_copy) {
    if (zero_copy_)
      last_seq_ = subscriber_.core().region() != nullptr ? subscriber_.core().region()->latest_seq() : 0;
    // Captures `this`: the channel lives behind a unique_ptr and never moves.
    subscriber_.on_update([this](const Payload& value, const UpdateInfo& info) {
      const std::int64_t received_ns = monotonic_ns();
      // A zero snapshot is the state before the first publish, not a bench message.
      if (value.seq == 0)
        return;
      delivered_ = true;
      // Only the part the publish wrote (past it the local copy is zeros).
      const std::size_t used = std::min<std::size_t>(info.used_bytes, sizeof value);
      (*sink_)(std::span<const std::byte>(reinterpret_cast<const std::byte*>(&value), used), received_ns);
    });
  }

  ReceiveStatus receive(const MessageSink& sink, DeadlineNs deadline) override {
    if (zero_copy_)
      return receive_inspected(
          [&](const Inspection&, std::size_t, std::int64_t) { error_ = "zero-copy mode delivers inspections only"; },
          deadline);
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

  // Zero-copy: busy-polls the published sequence, then runs the self-check on the
  // slot's used bytes in place under the seqlock; the message counts as received once
  // the check has read it and the seqlock has validated that read.
  ReceiveStatus receive_inspected(const InspectedSink& sink, DeadlineNs deadline) override {
    if (!zero_copy_)
      return SubscriberChannel::receive_inspected(sink, deadline);
    const RegionReader* region = subscriber_.core().region();
    if (region == nullptr) {
      error_ = "not attached";
      return ReceiveStatus::failed;
    }
    for (;;) {
      while (region->latest_seq() == last_seq_) {
        if (monotonic_ns() > deadline)
          return ReceiveStatus::timed_out;
        cpu_relax();
      }
      Inspection inspection;
      std::size_t size = 0;
      SnapshotMeta meta;
      // The untyped read hands the visitor the used bytes only (SnapshotMeta::used_bytes).
      const ReadStatus status = subscriber_.core().read_in_place(
          [&inspection, &size](std::span<const std::byte> payload) {
            size = payload.size();
            inspection = inspect_message(payload);
          },
          meta);
      if (status != ReadStatus::ok)
        continue;  // lapped on every attempt: try again with the newest
      const std::int64_t received_ns = monotonic_ns();
      last_seq_ = meta.seq;
      // A zero snapshot is the state before the first publish, not a bench message.
      if (inspection.header.seq == 0 && inspection.intact)
        continue;
      sink(inspection, size, received_ns);
      return ReceiveStatus::delivered;
    }
  }

  std::uint64_t retries() const noexcept override { return subscriber_.stats().retries; }
  std::string last_error() const override { return error_; }

 private:
  static Subscriber<Payload> open(const ChannelSpec& spec, const std::string& id, const std::string& socket_dir) {
    SubscriberOptions options;
    options.prefix = spec.run_name;
    options.id = id;
    options.mode = parse_mode(spec.mode).wait;
    options.socket_dir = socket_dir;
    try {
      return Subscriber<Payload>::open(topic, options);
    } catch (const Error& error) {
      throw std::runtime_error(std::string("shmsnap Subscriber::open: ") + error.what());
    }
  }

  Subscriber<Payload> subscriber_;
  const MessageSink* sink_ = nullptr;
  bool delivered_ = false;
  bool zero_copy_ = false;
  std::uint64_t last_seq_ = 0;
  std::string error_;
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
  explicit ShmsnapTransport(bool socket_mode) : socket_mode_(socket_mode) {}
  std::string_view name() const noexcept override { return socket_mode_ ? "shmsnap-sock" : "shmsnap"; }
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
  bool carries_used_prefix() const noexcept override { return true; }
  // Hybrid spins up to SubscriberOptions::hybrid_spin per wait, which at bench rates is
  // a large share of a core: it is flagged like spin.
  bool busy_waits(std::string_view mode) const noexcept override { return !mode.starts_with("notify"); }

  std::unique_ptr<PublisherChannel> create_publisher(const ChannelSpec& spec) const override {
    std::unique_ptr<PublisherChannel> channel;
    visit_payload_size(spec.payload_bytes,
                       [&]<std::size_t N>() { channel = std::make_unique<ShmsnapPublisher<N>>(spec, socket_mode_); });
    return channel;
  }
  std::unique_ptr<SubscriberChannel> open_subscriber(const ChannelSpec& spec, int /*index*/,
                                                     const std::string& endpoint) const override {
    std::unique_ptr<SubscriberChannel> channel;
    visit_payload_size(spec.payload_bytes, [&]<std::size_t N>() {
      channel = std::make_unique<ShmsnapSubscriber<N>>(spec, endpoint, socket_mode_);
    });
    return channel;
  }

 private:
  bool socket_mode_;
};

}  // namespace

std::unique_ptr<Transport> make_shmsnap_transport() {
  return std::make_unique<ShmsnapTransport>(false);
}

std::unique_ptr<Transport> make_shmsnap_socket_transport() {
  return std::make_unique<ShmsnapTransport>(true);
}

}  // namespace shmsnap::bench
