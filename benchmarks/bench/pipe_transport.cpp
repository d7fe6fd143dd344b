// Baseline: one anonymous pipe per subscriber (the child inherits the read end across
// exec), blocking write/read of the whole payload. The pipe is sized (F_SETPIPE_SZ, up
// to fs.pipe-max-size) to hold a whole message, as a sensible user would; above that
// the writer blocks mid-message until the reader drains, which is how pipes behave.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "bench/blocking_io.hpp"
#include "bench/blocking_transport.hpp"
#include "bench/subscriber_fd_pairs.hpp"

namespace shmsnap::bench {
namespace {

class PipePublisher final : public BlockingPublisher {
 public:
  explicit PipePublisher(const ChannelSpec& spec) : BlockingPublisher(spec.payload_bytes) {
    for (int index = 0; index < spec.subscribers; ++index) {
      int ends[2];
      if (pipe2(ends, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
      // Best effort: the default 64 KiB stays when the size exceeds fs.pipe-max-size.
      fcntl(ends[1], F_SETPIPE_SZ, static_cast<int>(std::max<std::size_t>(spec.payload_bytes, 65536)));
      pipes_.add(ends[1], ends[0]);
    }
  }

  std::string endpoint(int index) const override { return pipes_.endpoint(index); }
  std::vector<int> inherited_fds(int index) const override { return pipes_.inherited_fds(index); }
  void subscribers_spawned() override { pipes_.close_subscriber_ends(); }

  bool publish(DeadlineNs deadline) noexcept override {
    return send_to_each(pipes_.publisher_ends(), "write", error_,
                        [&](int fd) { return write_all(fd, buffer_.span(), deadline); });
  }

 private:
  SubscriberFdPairs pipes_;
};

class PipeSubscriber final : public BlockingSubscriber {
 public:
  PipeSubscriber(const ChannelSpec& spec, const std::string& endpoint)
      : BlockingSubscriber(spec.payload_bytes), fd_(std::stoi(endpoint)) {}
  ~PipeSubscriber() override { close(fd_); }

  // A pipe is a byte stream: one message is exactly payload_bytes, read until complete.
  ReceiveStatus receive(const MessageSink& sink, DeadlineNs deadline) override {
    const auto message = buffer_.span();
    return deliver(read_all(fd_, message, deadline), message, sink, "read", "pipe", error_);
  }

 private:
  int fd_;
};

class PipeTransport final : public BlockingTransport<PipePublisher, PipeSubscriber> {
 public:
  std::string_view name() const noexcept override { return "pipe"; }
};

}  // namespace

std::unique_ptr<Transport> make_pipe_transport() {
  return std::make_unique<PipeTransport>();
}

}  // namespace shmsnap::bench
