// The control loop (control_loop.hpp): the control thread's epoll set and what
// wakes it, the control queue and the heartbeat.

#include "publisher/control_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <utility>

#include "shmsnap/clock.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/region.hpp"
#include "system/os_error.hpp"
#include "system/process.hpp"

namespace shmsnap::detail {
namespace {

// epoll keys of the loop's own descriptors (a watched process's pidfd has its key).
constexpr std::uint64_t stop_key = ~std::uint64_t{0};
constexpr std::uint64_t control_key = ~std::uint64_t{0} - 1;
// While the Handler has work to retry, the loop wakes this often.
constexpr int fast_tick_period_ms = 1;

}  // namespace

ControlLoop::ControlLoop(Options options, Handler& handler, std::atomic<std::int64_t>& heartbeat)
    : options_(std::move(options)), handler_(handler), heartbeat_(heartbeat) {
  // Socket mode has no control queue: the connections are the control channel.
  if (!options_.control_queue.empty()) {
    create_control_queue();
  }
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || stop_fd_ < 0) {
    const int err = errno;
    close_descriptors();
    throw os_error(err, "create the control loop's epoll set for", "topic '" + options_.topic + "'");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = stop_key;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd_, &event);
  if (control_.is_open()) {
    event.data.u64 = control_key;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, control_.native_handle(), &event);
  }
}

void ControlLoop::create_control_queue() {
  // A dead publisher's control queue may linger; we own the topic now.
  MessageQueue::unlink(options_.control_queue);
  MessageQueue::CreateOptions control_options;
  control_options.max_messages = MqLimits::read().msg_max;
  control_options.message_size = sizeof(ControlMessage);
  control_options.mode = options_.mode;
  control_options.access = MessageQueue::Access::read;
  try {
    control_ = MessageQueue::create(options_.control_queue, control_options);
  } catch (const Error& failure) {
    const std::optional<uid_t> squatter = MessageQueue::owner_of(options_.control_queue);
    if (failure.code() != Errc::busy || !squatter) {
      throw;
    }
    // The unlink above failed: another user's name in the sticky /dev/mqueue.
    throw Error(Errc::permission_denied,
                "topic '" + options_.topic + "': its control queue /dev/mqueue" + options_.control_queue +
                    " exists, owned by user " + user_name(*squatter) +
                    ", and this user may not remove it; another user may have created the name to block the topic. "
                    "Remove it as that user or root (shmsnap mq unlink " +
                    options_.control_queue + ")",
                failure.os_errno());
  }
}

ControlLoop::~ControlLoop() {
  stop();
  close_descriptors();
}

void ControlLoop::close_descriptors() noexcept {
  if (epoll_fd_ >= 0) {
    ::close(std::exchange(epoll_fd_, -1));
  }
  if (stop_fd_ >= 0) {
    ::close(std::exchange(stop_fd_, -1));
  }
  for (const Watched& watched : watched_) {
    if (watched.owned) {
      ::close(watched.descriptor);
    }
  }
  watched_.clear();
}

void ControlLoop::start() {
  thread_ = std::thread([this] { run(); });
}

void ControlLoop::stop() noexcept {
  stopping_.store(true, std::memory_order_release);
  if (stop_fd_ >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(stop_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

void ControlLoop::close_queue() noexcept {
  if (!queue_closed_ && control_.is_open()) {
    queue_closed_ = true;
    control_.close();
    MessageQueue::unlink(options_.control_queue);
  }
}

void ControlLoop::watch_exit(std::uint64_t key, pid_t pid) noexcept {
  const int pidfd = open_pidfd(pid);
  if (pidfd < 0) {
    return;
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = key;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, pidfd, &event);
  watched_.push_back(Watched{.key = key, .descriptor = pidfd, .owned = true});
}

bool ControlLoop::watch_descriptor(std::uint64_t key, int descriptor) noexcept {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLRDHUP;
  event.data.u64 = key;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, descriptor, &event) != 0) {
    return false;
  }
  watched_.push_back(Watched{.key = key, .descriptor = descriptor, .owned = false});
  return true;
}

void ControlLoop::forget(std::uint64_t key) noexcept {
  std::erase_if(watched_, [&](const Watched& watched) {
    if (watched.key != key) {
      return false;
    }
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, watched.descriptor, nullptr);
    if (watched.owned) {
      ::close(watched.descriptor);
    }
    return true;
  });
}

void ControlLoop::run() noexcept {
  std::array<epoll_event, 32> events{};
  const auto period_ms = static_cast<int>(std::max<std::int64_t>(1, options_.period.count()));
  while (!stopping_.load(std::memory_order_acquire)) {
    const int timeout_ms = handler_.wants_fast_ticks() ? fast_tick_period_ms : period_ms;
    const int ready = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int index = 0; index < ready; ++index) {
      const std::uint64_t key = events[static_cast<std::size_t>(index)].data.u64;
      if (key == stop_key) {
        return;
      }
      if (key == control_key) {
        drain_control();
      } else {
        handler_.on_ready(key);
      }
    }
    handler_.on_tick();
    heartbeat_.store(monotonic_ns(), std::memory_order_relaxed);
  }
}

void ControlLoop::drain_control() noexcept {
  std::array<std::byte, 8192> buffer{};
  for (int budget = 0; budget < 1024; ++budget) {
    const Received received = control_.receive(buffer);
    if (received.status != QueueStatus::ok) {
      return;
    }
    handler_.on_control_message(std::span<const std::byte>(buffer.data(), received.size));
  }
}

}  // namespace shmsnap::detail
