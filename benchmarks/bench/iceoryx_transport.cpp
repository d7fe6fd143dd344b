// Peer framework: iceoryx 2.0 (Debian's libiceoryx-posh-dev) with loaned zero-copy
// publish. The harness stamps each message straight into a loaned chunk (buffer()
// loans, publish() publishes it), and a subscriber inspects the chunk in place, so no
// payload byte is copied on either side; received_ns is taken when take() returns.
// Modes: polling (busy take()) and waitset (blocks in a WaitSet until HAS_DATA).
// The RouDi daemon is started by iceoryx_roudi.cpp for the whole run.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>

#include "bench/aligned_buffer.hpp"
#include "bench/clock.hpp"
#include "bench/iceoryx_roudi.hpp"
#include "bench/transport.hpp"
#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "iceoryx_posh/popo/wait_set.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"

namespace shmsnap::bench {
namespace {

constexpr std::int64_t ns_per_ms = 1'000'000;
constexpr std::uint32_t payload_alignment = 64;
constexpr std::int64_t subscribe_timeout_ns = 10'000 * ns_per_ms;

// iceoryx names are fixed-capacity strings: the run name fits (it is short by design).
iox::capro::IdString_t id_string(const std::string& text) {
  return iox::capro::IdString_t(iox::cxx::TruncateToCapacity, text.c_str(), text.size());
}

iox::capro::ServiceDescription service_of(const ChannelSpec& spec) {
  return {id_string("shmsnapbench"), id_string(spec.run_name), id_string("payload")};
}

std::string subscriber_runtime_name(const ChannelSpec& spec, int index) {
  std::string name(spec.run_name);
  name.append(".s").append(std::to_string(index));
  return name;
}

// Registers this process with RouDi. Warnings and errors only: iceoryx's default
// logs every registration, which would bury the bench's progress lines.
void init_runtime(const std::string& name) {
  iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn,
                                                           iox::log::LogLevelOutput::kHideLogLevel);
  iox::runtime::PoshRuntime::initRuntime(iox::RuntimeName_t(iox::cxx::TruncateToCapacity, name.c_str()));
}

std::string allocation_error(iox::popo::AllocationError error) {
  return std::string("loan failed: ") + iox::popo::asStringLiteral(error) +
         " (the RouDi mempools have no free chunk of this size)";
}

class IceoryxPublisher final : public PublisherChannel {
 public:
  explicit IceoryxPublisher(const ChannelSpec& spec)
      : size_(static_cast<std::uint32_t>(spec.payload_bytes)),
        fallback_(spec.payload_bytes),
        publisher_(service_of(spec), options()) {
    for (int index = 0; index < spec.subscribers; ++index)
      iceoryx::track_runtime_name(subscriber_runtime_name(spec, index));
  }

  ~IceoryxPublisher() override {
    if (loaned_ != nullptr)
      publisher_.release(loaned_);
  }

  // Loans the chunk the next publish() sends, so the harness writes the message into
  // shared memory directly (zero-copy). A failed loan yields a scratch buffer and makes
  // that publish() fail with the reason.
  std::span<std::byte> buffer() noexcept override {
    if (loaned_ == nullptr) {
      auto chunk = publisher_.loan(size_, payload_alignment);
      if (chunk.has_error()) {
        error_ = allocation_error(chunk.get_error());
        return fallback_.span();
      }
      loaned_ = chunk.value();
    }
    return {static_cast<std::byte*>(loaned_), size_};
  }

  std::string endpoint(int /*index*/) const override { return "iceoryx"; }

  bool publish(DeadlineNs /*deadline*/) noexcept override {
    if (loaned_ == nullptr)
      return false;  // buffer() could not loan; error_ says why
    publisher_.publish(loaned_);
    loaned_ = nullptr;
    return true;
  }

  std::string last_error() const override { return error_; }

 private:
  static iox::popo::PublisherOptions options() {
    iox::popo::PublisherOptions options;
    options.historyCapacity = 0;
    options.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::DISCARD_OLDEST_DATA;
    return options;
  }

  std::uint32_t size_;
  AlignedBuffer fallback_;
  iox::popo::UntypedPublisher publisher_;
  void* loaned_ = nullptr;
  std::string error_;
};

class IceoryxSubscriber final : public SubscriberChannel {
 public:
  IceoryxSubscriber(const ChannelSpec& spec, bool use_waitset)
      : size_(spec.payload_bytes), subscriber_(service_of(spec), options(spec)) {
    if (use_waitset) {
      waitset_.emplace();
      if (waitset_->attachState(subscriber_, iox::popo::SubscriberState::HAS_DATA).has_error())
        throw std::runtime_error("iceoryx WaitSet::attachState(HAS_DATA) failed");
    }
    // Subscription is asynchronous (RouDi's discovery loop): ready only once connected,
    // so the harness's first message is not lost.
    const std::int64_t deadline = monotonic_ns() + subscribe_timeout_ns;
    while (subscriber_.getSubscriptionState() != iox::SubscribeState::SUBSCRIBED) {
      if (monotonic_ns() > deadline)
        throw std::runtime_error("iceoryx subscriber of " + spec.run_name + " not subscribed within 10 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  ~IceoryxSubscriber() override {
    if (waitset_)
      waitset_->detachState(subscriber_, iox::popo::SubscriberState::HAS_DATA);
  }

  ReceiveStatus receive(const MessageSink& sink, DeadlineNs deadline) override {
    return take_next([&](std::span<const std::byte> chunk) { sink(chunk, monotonic_ns()); }, deadline);
  }

  // Zero-copy: the self-check reads the chunk in place, and the message counts as
  // received once it has been read.
  ReceiveStatus receive_inspected(const InspectedSink& sink, DeadlineNs deadline) override {
    return take_next(
        [&](std::span<const std::byte> chunk) {
          const Inspection inspection = inspect_message(chunk);
          sink(inspection, chunk.size(), monotonic_ns());
        },
        deadline);
  }

  std::string last_error() const override { return error_; }

 private:
  template <class Use>
  ReceiveStatus take_next(Use&& use, DeadlineNs deadline) {
    for (;;) {
      auto chunk = subscriber_.take();
      if (!chunk.has_error()) {
        use(std::span<const std::byte>(static_cast<const std::byte*>(chunk.value()), size_));
        subscriber_.release(chunk.value());
        return ReceiveStatus::delivered;
      }
      if (chunk.get_error() == iox::popo::ChunkReceiveResult::TOO_MANY_CHUNKS_HELD_IN_PARALLEL) {
        error_ = "take: too many chunks held in parallel";
        return ReceiveStatus::failed;
      }
      const std::int64_t left = deadline - monotonic_ns();
      if (left <= 0)
        return ReceiveStatus::timed_out;
      if (waitset_) {
        // Bounded slices keep the deadline honest.
        (void)waitset_->timedWait(iox::units::Duration::fromNanoseconds(
            static_cast<unsigned long long>(std::min<std::int64_t>(left, 100 * ns_per_ms))));
      } else {
        cpu_relax();
      }
    }
  }

  static iox::popo::SubscriberOptions options(const ChannelSpec& spec) {
    iox::popo::SubscriberOptions options;
    options.queueCapacity =
        static_cast<std::uint64_t>(iceoryx::queue_capacity_for(spec.payload_bytes, spec.subscribers));
    options.historyRequest = 0;
    options.queueFullPolicy = iox::popo::QueueFullPolicy::DISCARD_OLDEST_DATA;
    return options;
  }

  std::size_t size_;
  iox::popo::UntypedSubscriber subscriber_;
  std::optional<iox::popo::WaitSet<>> waitset_;
  std::string error_;
};

class IceoryxTransport final : public Transport {
 public:
  std::string_view name() const noexcept override { return "iceoryx"; }
  std::vector<std::string> modes(std::span<const std::string>) const override { return {"polling", "waitset"}; }
  bool busy_waits(std::string_view mode) const noexcept override { return mode == "polling"; }

  void prepare_run(std::span<const std::size_t> payloads, int max_subscribers) override {
    payloads_.assign(payloads.begin(), payloads.end());
    max_subscribers_ = max_subscribers;
  }

  std::optional<std::string> not_applicable(const ChannelSpec& spec) const override {
    if (!iceoryx::find_roudi_binary())
      return "iox-roudi not found on PATH (install the Debian package 'iceoryx')";
    if (!iceoryx::roudi_started_here()) {
      if (const auto other = iceoryx::running_roudi()) {
        return "an iox-roudi not started by shmsnap-bench is running (pid " + std::to_string(*other) +
               "; iceoryx 2.0 allows one per machine)";
      }
    }
    if (std::find(payloads_.begin(), payloads_.end(), spec.payload_bytes) == payloads_.end() ||
        spec.subscribers > max_subscribers_) {
      return std::string("outside the RouDi mempool plan of this run");
    }
    return std::nullopt;
  }

  std::unique_ptr<PublisherChannel> create_publisher(const ChannelSpec& spec) const override {
    // The daemon first (its supervisor must outlive this process's runtime), then the
    // runtime of this process, registered once under a name unique to the run.
    iceoryx::ensure_roudi({.payloads = payloads_, .max_subscribers = max_subscribers_});
    if (!runtime_initialized_) {
      const auto dot = spec.run_name.rfind('.');
      const std::string name = spec.run_name.substr(0, dot);
      init_runtime(name);
      runtime_initialized_ = true;
      // Its socket and lock file in /tmp, removed by the runtime at exit, but left
      // behind if a signal ends the run.
      iceoryx::track_runtime_name(name);
    }
    return std::make_unique<IceoryxPublisher>(spec);
  }

  std::unique_ptr<SubscriberChannel> open_subscriber(const ChannelSpec& spec, int index,
                                                     const std::string& /*endpoint*/) const override {
    if (spec.mode != "polling" && spec.mode != "waitset")
      throw std::invalid_argument("iceoryx mode must be polling or waitset, not '" + spec.mode + "'");
    init_runtime(subscriber_runtime_name(spec, index));
    return std::make_unique<IceoryxSubscriber>(spec, spec.mode == "waitset");
  }

 private:
  std::vector<std::size_t> payloads_{64};
  int max_subscribers_ = 1;
  mutable bool runtime_initialized_ = false;
};

}  // namespace

std::unique_ptr<Transport> make_iceoryx_transport() {
  return std::make_unique<IceoryxTransport>();
}

}  // namespace shmsnap::bench
