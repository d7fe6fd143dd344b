// Baseline: System V message queues, one per subscriber, blocking msgsnd/msgrcv. Queues
// are IPC_PRIVATE (nameless, so no key can collide with another run) and removed with
// IPC_RMID. A payload above kernel.msgmax, or above kernel.msgmnb (a queue that could
// never hold one message), is n/a.
#include <sys/msg.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "bench/aligned_buffer.hpp"
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

// A SysV message is `long mtype` followed by the text; the buffer keeps that word in
// front of the payload so sending needs no copy. 64 bytes keep the payload line-aligned.
constexpr std::size_t type_prefix = 64;

long* type_word(AlignedBuffer& buffer) noexcept {
  return reinterpret_cast<long*>(buffer.data() + type_prefix - sizeof(long));
}

class SysvPublisher final : public BlockingPublisher {
 public:
  explicit SysvPublisher(const ChannelSpec& spec) : BlockingPublisher(spec.payload_bytes + type_prefix) {
    *type_word(buffer_) = 1;
    for (int index = 0; index < spec.subscribers; ++index) {
      const int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
      if (id < 0) {
        throw std::runtime_error(std::string("msgget(IPC_PRIVATE): ") + std::strerror(errno) +
                                 (errno == ENOSPC ? " (kernel.msgmni reached)" : ""));
      }
      cleanup::track_sysv_queue(id);
      queues_.push_back(id);
    }
  }

  ~SysvPublisher() override {
    for (int id : queues_) {
      msgctl(id, IPC_RMID, nullptr);
      cleanup::untrack_sysv_queue(id);
    }
  }

  std::span<std::byte> buffer() noexcept override { return buffer_.span().subspan(type_prefix); }
  std::string endpoint(int index) const override { return std::to_string(queues_.at(static_cast<std::size_t>(index))); }

  bool publish(DeadlineNs deadline) noexcept override {
    const std::size_t size = buffer_.span().size() - type_prefix;
    return send_to_each(queues_, "msgsnd", error_, [&](int id) {
      return retry_interrupted([&] { return msgsnd(id, type_word(buffer_), size, 0); }, deadline);
    });
  }

 private:
  std::vector<int> queues_;
};

class SysvSubscriber final : public BlockingSubscriber {
 public:
  SysvSubscriber(const ChannelSpec& spec, const std::string& endpoint)
      : BlockingSubscriber(spec.payload_bytes + type_prefix), id_(std::stoi(endpoint)) {}

  ReceiveStatus receive(const MessageSink& sink, DeadlineNs deadline) override {
    const auto message = buffer_.span().subspan(type_prefix);
    const CallResult received =
        retry_interrupted([&] { return msgrcv(id_, type_word(buffer_), message.size(), 0, 0); }, deadline);
    return deliver(received, message, sink, "msgrcv", "queue", error_);
  }

 private:
  int id_;
};

class SysvTransport final : public BlockingTransport<SysvPublisher, SysvSubscriber> {
 public:
  std::string_view name() const noexcept override { return "sysv_mq"; }
  std::optional<std::string> not_applicable(const ChannelSpec& spec) const override {
    const long msgmax = read_limit("/proc/sys/kernel/msgmax", 8192);
    const long msgmnb = read_limit("/proc/sys/kernel/msgmnb", 16384);
    const auto payload = static_cast<long>(spec.payload_bytes);
    if (payload > msgmax)
      return "payload > kernel.msgmax (" + std::to_string(msgmax) + ")";
    if (payload > msgmnb)
      return "payload > kernel.msgmnb (" + std::to_string(msgmnb) + ")";
    return std::nullopt;
  }
};

}  // namespace

std::unique_ptr<Transport> make_sysv_mq_transport() {
  return std::make_unique<SysvTransport>();
}

}  // namespace shmsnap::bench
