// Baseline: raw POSIX message queues carrying the whole payload, one queue per
// subscriber (fan-out = one mq_send each), blocking mq_send/mq_receive. A payload
// above /proc/sys/fs/mqueue/msgsize_max cannot be sent at all: such rows are n/a.
#include <fcntl.h>
#include <mqueue.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "bench/blocking_io.hpp"
#include "bench/blocking_transport.hpp"
#include "bench/cleanup.hpp"

namespace shmsnap::bench {
namespace {

long read_limit(const char* path, long fallback) {
  std::ifstream file(path);
  long value = 0;
  return (file >> value) ? value : fallback;
}

long msgsize_max() {
  return read_limit("/proc/sys/fs/mqueue/msgsize_max", 8192);
}
long msg_max() {
  return read_limit("/proc/sys/fs/mqueue/msg_max", 10);
}

// Depth per queue: the sysctl's msg_max (10 by default, as shmsnap's notify queues),
// reduced so that all N queues fit RLIMIT_MSGQUEUE (800 KiB per user by default).
long queue_depth(std::size_t payload, int subscribers) {
  rlimit limit{};
  getrlimit(RLIMIT_MSGQUEUE, &limit);
  const long depth = std::min(10L, msg_max());
  if (limit.rlim_cur == RLIM_INFINITY)
    return depth;
  // The kernel charges each message plus a pointer-sized slot and its tree node.
  const auto per_message = static_cast<long>(payload) + 64;
  const long fits = static_cast<long>(limit.rlim_cur) / (per_message * subscribers);
  return std::clamp(fits, 1L, depth);
}

std::string queue_name(const ChannelSpec& spec, int index) {
  return "/" + spec.run_name + ".mq" + std::to_string(index);
}

class PosixMqPublisher final : public BlockingPublisher {
 public:
  explicit PosixMqPublisher(const ChannelSpec& spec) : BlockingPublisher(spec.payload_bytes) {
    mq_attr attr{};
    attr.mq_maxmsg = queue_depth(spec.payload_bytes, spec.subscribers);
    attr.mq_msgsize = static_cast<long>(spec.payload_bytes);
    for (int index = 0; index < spec.subscribers; ++index) {
      const std::string name = queue_name(spec, index);
      const mqd_t queue = mq_open(name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600, &attr);
      if (queue == static_cast<mqd_t>(-1)) {
        const int error = errno;
        throw std::runtime_error("mq_open(" + name + ", depth " + std::to_string(attr.mq_maxmsg) + ", msgsize " +
                                 std::to_string(attr.mq_msgsize) + "): " + std::strerror(error) +
                                 (error == EMFILE || error == ENOMEM
                                      ? " (raise RLIMIT_MSGQUEUE with ulimit -q, or fs.mqueue.queues_max)"
                                      : ""));
      }
      cleanup::track(cleanup::NameKind::posix_mq, name);
      queues_.push_back({queue, name});
    }
  }

  ~PosixMqPublisher() override {
    for (const auto& [queue, name] : queues_) {
      mq_close(queue);
      mq_unlink(name.c_str());
      cleanup::untrack(cleanup::NameKind::posix_mq, name);
    }
  }

  std::string endpoint(int index) const override { return queues_.at(static_cast<std::size_t>(index)).second; }

  bool publish(DeadlineNs deadline) noexcept override {
    const auto message = buffer_.span();
    return send_to_each(queues_, "mq_send", error_, [&](const auto& queue) {
      return retry_interrupted(
          [&] { return mq_send(queue.first, reinterpret_cast<const char*>(message.data()), message.size(), 0); },
          deadline);
    });
  }

 private:
  std::vector<std::pair<mqd_t, std::string>> queues_;
};

class PosixMqSubscriber final : public BlockingSubscriber {
 public:
  PosixMqSubscriber(const ChannelSpec& spec, const std::string& name) : BlockingSubscriber(spec.payload_bytes) {
    queue_ = mq_open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (queue_ == static_cast<mqd_t>(-1))
      throw std::runtime_error("mq_open(" + name + "): " + std::strerror(errno));
  }
  ~PosixMqSubscriber() override { mq_close(queue_); }

  ReceiveStatus receive(const MessageSink& sink, DeadlineNs deadline) override {
    const auto message = buffer_.span();
    const CallResult received = retry_interrupted(
        [&] { return mq_receive(queue_, reinterpret_cast<char*>(message.data()), message.size(), nullptr); }, deadline);
    return deliver(received, message, sink, "mq_receive", "queue", error_);
  }

 private:
  mqd_t queue_;
};

class PosixMqTransport final : public BlockingTransport<PosixMqPublisher, PosixMqSubscriber> {
 public:
  std::string_view name() const noexcept override { return "posix_mq"; }
  std::optional<std::string> not_applicable(const ChannelSpec& spec) const override {
    const long limit = msgsize_max();
    if (static_cast<long>(spec.payload_bytes) > limit) {
      return "payload > /proc/sys/fs/mqueue/msgsize_max (" + std::to_string(limit) + ")";
    }
    return std::nullopt;
  }
};

}  // namespace

std::unique_ptr<Transport> make_posix_mq_transport() {
  return std::make_unique<PosixMqTransport>();
}

}  // namespace shmsnap::bench
