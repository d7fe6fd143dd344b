// Baseline: Boost.Interprocess message_queue (a shared-memory ring guarded by a
// process-shared mutex and condition variables), one per subscriber, depth 10 like the
// POSIX queues. Its blocking calls are timed_send/timed_receive: the untimed ones wait
// on a condition variable that no signal interrupts, so a dead peer would hang the run.
#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>

#include <stdexcept>

#include "bench/blocking_transport.hpp"
#include "bench/cleanup.hpp"
#include "bench/clock.hpp"

namespace shmsnap::bench {
namespace {

namespace ipc = boost::interprocess;

constexpr std::size_t queue_depth = 10;

// Boost's timed waits take an absolute UTC time; map the monotonic deadline onto it.
boost::posix_time::ptime to_boost_time(DeadlineNs deadline) {
  const std::int64_t left_us = std::max<std::int64_t>(deadline - monotonic_ns(), 0) / 1000;
  return boost::posix_time::microsec_clock::universal_time() + boost::posix_time::microseconds(left_us);
}

std::string queue_name(const ChannelSpec& spec, int index) {
  return spec.run_name + ".bmq" + std::to_string(index);
}

class BoostMqPublisher final : public BlockingPublisher {
 public:
  explicit BoostMqPublisher(const ChannelSpec& spec) : BlockingPublisher(spec.payload_bytes) {
    for (int index = 0; index < spec.subscribers; ++index) {
      const std::string name = queue_name(spec, index);
      // Boost keeps the queue in /dev/shm/<name>; track it before creating so a
      // failure half-way through still removes it.
      cleanup::track(cleanup::NameKind::shm, "/" + name);
      names_.push_back(name);
      try {
        queues_.push_back(
            std::make_unique<ipc::message_queue>(ipc::create_only, name.c_str(), queue_depth, spec.payload_bytes));
      } catch (const ipc::interprocess_exception& error) {
        throw std::runtime_error("boost message_queue(" + name + "): " + error.what());
      }
    }
  }

  ~BoostMqPublisher() override {
    queues_.clear();
    for (const auto& name : names_) {
      ipc::message_queue::remove(name.c_str());
      cleanup::untrack(cleanup::NameKind::shm, "/" + name);
    }
  }

  std::string endpoint(int index) const override { return names_.at(static_cast<std::size_t>(index)); }

  bool publish(DeadlineNs deadline) noexcept override {
    const auto message = buffer_.span();
    try {
      for (auto& queue : queues_) {
        // The try_send fast path keeps the clock conversion off the common case.
        if (queue->try_send(message.data(), message.size(), 0))
          continue;
        if (!queue->timed_send(message.data(), message.size(), 0, to_boost_time(deadline))) {
          error_ = "timed_send: deadline passed";
          return false;
        }
      }
    } catch (const std::exception& error) {
      error_ = std::string("send: ") + error.what();
      return false;
    }
    return true;
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<ipc::message_queue>> queues_;
};

class BoostMqSubscriber final : public BlockingSubscriber {
 public:
  BoostMqSubscriber(const ChannelSpec& spec, const std::string& name)
      : BlockingSubscriber(spec.payload_bytes), queue_(ipc::open_only, name.c_str()) {}

  ReceiveStatus receive(const MessageSink& sink, DeadlineNs deadline) override {
    const auto message = buffer_.span();
    ipc::message_queue::size_type got = 0;
    unsigned int priority = 0;
    try {
      // The deadline conversion happens before the wait, so it is outside the latency.
      if (!queue_.timed_receive(message.data(), message.size(), got, priority, to_boost_time(deadline))) {
        return ReceiveStatus::timed_out;
      }
    } catch (const std::exception& error) {
      error_ = std::string("receive: ") + error.what();
      return ReceiveStatus::failed;
    }
    sink(message.first(got), monotonic_ns());
    return ReceiveStatus::delivered;
  }

 private:
  ipc::message_queue queue_;
};

class BoostMqTransport final : public BlockingTransport<BoostMqPublisher, BoostMqSubscriber> {
 public:
  std::string_view name() const noexcept override { return "boost_mq"; }
};

}  // namespace

std::unique_ptr<Transport> make_boost_mq_transport() {
  return std::make_unique<BoostMqTransport>();
}

}  // namespace shmsnap::bench
