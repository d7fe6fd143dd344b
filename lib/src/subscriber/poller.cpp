#include "shmsnap/poller.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>

#include "shmsnap/clock.hpp"
#include "system/os_error.hpp"

namespace shmsnap {

Poller::Poller() : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_fd_ < 0) {
    throw detail::os_error(errno, "create", "the poller's epoll set");
  }
}

Poller::~Poller() {
  ::close(epoll_fd_);
}

void Poller::add(UntypedSubscriber& subscriber) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = &subscriber;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, subscriber.fd(), &event) != 0) {
    throw detail::os_error(errno, "add to the poller", "subscriber '" + subscriber.id() + "'");
  }
  members_.push_back(&subscriber);
}

void Poller::remove(UntypedSubscriber& subscriber) noexcept {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, subscriber.fd(), nullptr);
  members_.erase(std::remove(members_.begin(), members_.end(), &subscriber), members_.end());
}

void Poller::wake_on(int descriptor) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = this;  // not a member: a wake-up
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, descriptor, &event) != 0) {
    throw detail::os_error(errno, "add to the poller", "wake-up descriptor " + std::to_string(descriptor));
  }
}

std::size_t Poller::wait(std::chrono::nanoseconds timeout) noexcept {
  std::array<epoll_event, 64> events{};
  const std::int64_t deadline = monotonic_deadline(timeout);
  std::size_t delivered = 0;
  bool woken = false;
  while (delivered == 0 && !woken) {
    const int ready =
        epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), milliseconds_until(deadline));
    if (ready < 0 && errno == EINTR) {
      break;  // a signal: let the caller look at its flags now, not at the deadline
    }
    for (int index = 0; index < ready; ++index) {
      void* const source = events[static_cast<std::size_t>(index)].data.ptr;
      if (source == this) {
        woken = true;
        continue;
      }
      delivered += static_cast<UntypedSubscriber*>(source)->poll() ? 1 : 0;
    }
    if (monotonic_ns() >= deadline) {
      break;
    }
  }
  return delivered;
}

}  // namespace shmsnap
