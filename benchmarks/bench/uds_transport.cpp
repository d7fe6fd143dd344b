// Baseline: Unix domain SOCK_SEQPACKET, one connected socketpair per subscriber (the
// child inherits its end across exec), blocking send/recv of the whole payload as one
// record. A record must fit the socket send buffer (capped by net.core.wmem_max);
// larger payloads are n/a, found by probing rather than by guessing kernel overheads.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "bench/aligned_buffer.hpp"
#include "bench/blocking_io.hpp"
#include "bench/blocking_transport.hpp"
#include "bench/subscriber_fd_pairs.hpp"

namespace shmsnap::bench {
namespace {

// Room for a few records in flight, like the queue baselines' depth.
int wanted_buffer_bytes(std::size_t payload) {
  return static_cast<int>(std::min<std::size_t>(payload * 4 + 4096, 64U << 20U));
}

void size_buffers(int fd, std::size_t payload) {
  const int bytes = wanted_buffer_bytes(payload);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

std::optional<std::string> probe_record_size(std::size_t payload) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return std::string("socketpair(SOCK_SEQPACKET): ") + std::strerror(errno);
  }
  size_buffers(pair[0], payload);
  size_buffers(pair[1], payload);
  AlignedBuffer message(payload);
  const ssize_t sent = send(pair[0], message.data(), payload, MSG_DONTWAIT | MSG_NOSIGNAL);
  const int error = errno;
  close(pair[0]);
  close(pair[1]);
  if (sent == static_cast<ssize_t>(payload))
    return std::nullopt;
  return "one SEQPACKET record of this size does not fit the socket buffer (" + std::string(std::strerror(error)) +
         "; raise net.core.wmem_max)";
}

class UdsPublisher final : public BlockingPublisher {
 public:
  explicit UdsPublisher(const ChannelSpec& spec) : BlockingPublisher(spec.payload_bytes) {
    for (int index = 0; index < spec.subscribers; ++index) {
      int pair[2];
      if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        throw std::runtime_error(std::string("socketpair(SOCK_SEQPACKET): ") + std::strerror(errno));
      }
      size_buffers(pair[0], spec.payload_bytes);
      size_buffers(pair[1], spec.payload_bytes);
      sockets_.add(pair[0], pair[1]);
    }
  }

  std::string endpoint(int index) const override { return sockets_.endpoint(index); }
  std::vector<int> inherited_fds(int index) const override { return sockets_.inherited_fds(index); }
  void subscribers_spawned() override { sockets_.close_subscriber_ends(); }

  bool publish(DeadlineNs deadline) noexcept override {
    const auto message = buffer_.span();
    return send_to_each(sockets_.publisher_ends(), "send", error_, [&](int fd) {
      return retry_interrupted([&] { return send(fd, message.data(), message.size(), MSG_NOSIGNAL); }, deadline);
    });
  }

 private:
  SubscriberFdPairs sockets_;
};

class UdsSubscriber final : public BlockingSubscriber {
 public:
  UdsSubscriber(const ChannelSpec& spec, const std::string& endpoint)
      : BlockingSubscriber(spec.payload_bytes), fd_(std::stoi(endpoint)) {}
  ~UdsSubscriber() override { close(fd_); }

  // One recv is one whole record (SOCK_SEQPACKET keeps the boundaries).
  ReceiveStatus receive(const MessageSink& sink, DeadlineNs deadline) override {
    const auto message = buffer_.span();
    const CallResult received =
        closed_if_empty(retry_interrupted([&] { return recv(fd_, message.data(), message.size(), 0); }, deadline));
    return deliver(received, message, sink, "recv", "socket", error_);
  }

 private:
  int fd_;
};

class UdsTransport final : public BlockingTransport<UdsPublisher, UdsSubscriber> {
 public:
  std::string_view name() const noexcept override { return "uds"; }
  std::optional<std::string> not_applicable(const ChannelSpec& spec) const override {
    return probe_record_size(spec.payload_bytes);
  }
};

}  // namespace

std::unique_ptr<Transport> make_uds_transport() {
  return std::make_unique<UdsTransport>();
}

}  // namespace shmsnap::bench
