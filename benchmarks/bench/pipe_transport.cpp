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

#include "bench/aligned_buffer.hpp"
#include "bench/blocking_io.hpp"
#include "bench/subscriber_fd_pairs.hpp"
#include "bench/transport.hpp"

namespace shmsnap::bench {
namespace {

class PipePublisher final : public PublisherChannel {
 public:
  explicit PipePublisher(const ChannelSpec& spec) : buffer_(spec.payload_bytes) {
    for (int index = 0; index < spec.subscribers; ++index) {
      int ends[2];
      if (pipe2(ends, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
      // Best effort: the default 64 KiB stays when the size exceeds fs.pipe-max-size.
      fcntl(ends[1], F_SETPIPE_SZ, static_cast<int>(std::max<std::size_t>(spec.payload_bytes, 65536)));
      pipes_.add(ends[1], ends[0]);
    }
  }

  std::span<std::byte> buffer() noexcept override { return buffer_.span(); }
  std::string endpoint(int index) const override { return pipes_.endpoint(index); }
  std::vector<int> inherited_fds(int index) const override { return pipes_.inherited_fds(index); }
  void subscribers_spawned() override { pipes_.close_subscriber_ends(); }

  bool publish(DeadlineNs deadline) noexcept override {
    return send_to_each(pipes_.publisher_ends(), "write", error_,
                        [&](int fd) { return write_all(fd, buffer_.span(), deadline); });
  }

  std::string last_error() const override { return error_; }

 private:
  AlignedBuffer buffer_;
  SubscriberFdPairs pipes_;
  std::string error_;
};

class PipeSubscriber final : public SubscriberChannel {
 public:
  PipeSubscriber(const ChannelSpec& spec, int fd) : buffer_(spec.payload_bytes), fd_(fd) {}
  ~PipeSubscriber() override { close(fd_); }

  // A pipe is a byte stream: one message is exactly payload_bytes, read until complete.
  ReceiveStatus receive(const MessageSink& sink, DeadlineNs deadline) override {
    const auto message = buffer_.span();
    return deliver(read_all(fd_, message, deadline), message, sink, "read", "pipe", error_);
  }

  std::string last_error() const override { return error_; }

 private:
  AlignedBuffer buffer_;
  int fd_;
  std::string error_;
};

class PipeTransport final : public Transport {
 public:
  std::string_view name() const noexcept override { return "pipe"; }
  std::vector<std::string> modes(std::span<const std::string>) const override { return {"blocking"}; }
  std::optional<std::string> not_applicable(const ChannelSpec&) const override { return std::nullopt; }
  std::unique_ptr<PublisherChannel> create_publisher(const ChannelSpec& spec) const override {
    return std::make_unique<PipePublisher>(spec);
  }
  std::unique_ptr<SubscriberChannel> open_subscriber(const ChannelSpec& spec, int /*index*/,
                                                     const std::string& endpoint) const override {
    return std::make_unique<PipeSubscriber>(spec, std::stoi(endpoint));
  }
};

}  // namespace

std::unique_ptr<Transport> make_pipe_transport() {
  return std::make_unique<PipeTransport>();
}

}  // namespace shmsnap::bench
