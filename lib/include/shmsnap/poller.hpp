// Poller: one thread follows many subscribers (of one or several topics) with a
// single epoll set over their descriptors, the way a classic select() loop
// follows several queues. Used by one thread; the subscribers must outlive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "shmsnap/subscriber.hpp"

namespace shmsnap {

class Poller {
 public:
  /// Throws Error when the kernel refuses an epoll descriptor.
  Poller();
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  /// Follows `subscriber`; its callbacks run inside wait().
  void add(UntypedSubscriber& subscriber);
  template <Snapshot T>
  void add(Subscriber<T>& subscriber) {
    add(subscriber.core());
  }
  /// Stops following `subscriber`.
  void remove(UntypedSubscriber& subscriber) noexcept;
  /// Also ends wait() (delivering nothing) while `descriptor` is readable: how
  /// another thread wakes this one, through an eventfd it writes. The caller reads
  /// the descriptor empty before waiting again, else wait() returns at once. Throws
  /// Error when the kernel refuses it.
  void wake_on(int descriptor);

  /// Waits up to `timeout` for any subscriber to have work and polls every ready
  /// one. Returns how many snapshots were delivered; returns early (maybe 0) when a
  /// signal interrupts the wait, so a daemon sees its stop flag at once, or when a
  /// wake_on descriptor is readable.
  std::size_t wait(std::chrono::nanoseconds timeout) noexcept;

 private:
  int epoll_fd_ = -1;
  std::vector<UntypedSubscriber*> members_;
};

}  // namespace shmsnap
