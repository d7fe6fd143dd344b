// The waiter (waiter.hpp): its epoll set and timer, the sleep of a blocking wait,
// and taking a notification off the queue. The strategies' loops are in the header,
// instantiated for the engine alone.
#include "subscriber/waiter.hpp"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <ctime>
#include <span>
#include <utility>

#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/error.hpp"
#include "system/log.hpp"

namespace shmsnap::detail {
namespace {

// A relative timeout for epoll_pwait2, which measures it on CLOCK_MONOTONIC (so a
// step of the wall clock neither stretches nor cuts a wait), at nanosecond resolution.
timespec relative_timeout(std::int64_t nanoseconds) noexcept {
  nanoseconds = std::max<std::int64_t>(0, nanoseconds);
  return timespec{.tv_sec = static_cast<time_t>(nanoseconds / 1'000'000'000),
                  .tv_nsec = static_cast<long>(nanoseconds % 1'000'000'000)};
}

}  // namespace

Waiter::Waiter(std::string id)
    : id_(std::move(id)),
      epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
      timer_fd_(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) {
  if (epoll_fd_ < 0 || timer_fd_ < 0) {
    if (epoll_fd_ >= 0) {
      ::close(epoll_fd_);
    }
    if (timer_fd_ >= 0) {
      ::close(timer_fd_);
    }
    throw Error(Errc::system, "subscriber '" + id_ + "': cannot create its epoll/timerfd descriptors");
  }
}

Waiter::~Waiter() {
  ::close(epoll_fd_);
  ::close(timer_fd_);
}

void Waiter::watch(int notify_fd, int death_watch_fd) noexcept {
  for (const int descriptor_fd : {notify_fd, death_watch_fd, timer_fd_}) {
    if (descriptor_fd >= 0) {
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, descriptor_fd, nullptr);
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.fd = descriptor_fd;
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, descriptor_fd, &event);
    }
  }
}

void Waiter::unwatch(int descriptor_fd) noexcept {
  if (descriptor_fd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, descriptor_fd, nullptr);
  }
}

// The timer makes fd() readable periodically: while attached, to watch the
// publisher's heartbeat; while stale, to look for a successor.
void Waiter::arm_timer(std::chrono::nanoseconds period) noexcept {
  itimerspec spec{};
  spec.it_interval.tv_sec = static_cast<time_t>(period.count() / 1'000'000'000);
  spec.it_interval.tv_nsec = static_cast<long>(period.count() % 1'000'000'000);
  spec.it_value = spec.it_interval;
  timerfd_settime(timer_fd_, 0, &spec, nullptr);
  clear_timer();
}

void Waiter::clear_timer() noexcept {
  std::uint64_t expirations = 0;
  [[maybe_unused]] const ssize_t drained = ::read(timer_fd_, &expirations, sizeof expirations);
}

Drained Waiter::drain(MessageQueue& notify) noexcept {
  // The queue holds at most one message (depth 1), so one receive drains it; a
  // message arriving right after will make the descriptor readable again.
  std::array<std::byte, sizeof(NotifyMessage)> buffer{};
  const Received received = notify.receive(buffer);
  if (received.status != QueueStatus::ok) {
    return Drained::nothing;
  }
  const Parsed<NotifyMessage> parsed = parse_notify(std::span(buffer.data(), received.size));
  const std::optional<NotifyMessage>& message = parsed.message;
  if (!message) {
    log().warn("subscriber '{}': ignored a malformed notification ({})", id_, parsed.problem);
    return Drained::message;
  }
  if (message->kind == NotifyKind::shutdown) {
    // Believed only with evidence (the region's state or the publisher's exit):
    // anyone in the topic's group may write to our queue.
    return Drained::shutdown;
  }
  if (message->kind == NotifyKind::epoch) {
    return Drained::epoch;
  }
  return Drained::message;
}

bool Waiter::sleep(std::int64_t timeout_ns) noexcept {
  std::array<epoll_event, 4> events{};
  const timespec timeout = relative_timeout(timeout_ns);
  return epoll_pwait2(epoll_fd_, events.data(), static_cast<int>(events.size()), &timeout, nullptr) > 0;
}

}  // namespace shmsnap::detail
