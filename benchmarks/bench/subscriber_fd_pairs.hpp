// The publisher's side of the fd baselines (pipe, uds): one descriptor pair per
// subscriber, of which the publisher keeps one end and the subscriber process inherits
// the other across exec. Publisher process, one thread.
#pragma once

#include <string>
#include <vector>

namespace shmsnap::bench {

/// Owns both ends of every pair until the subscribers hold theirs, then the publisher's.
class SubscriberFdPairs {
 public:
  SubscriberFdPairs() = default;
  /// Closes every end still open.
  ~SubscriberFdPairs();
  SubscriberFdPairs(const SubscriberFdPairs&) = delete;
  SubscriberFdPairs& operator=(const SubscriberFdPairs&) = delete;

  /// Takes the next subscriber's pair: `publisher_end` stays here, `subscriber_end` goes to it.
  void add(int publisher_end, int subscriber_end);
  /// The ends the publisher sends on, in subscriber order.
  [[nodiscard]] const std::vector<int>& publisher_ends() const noexcept { return publisher_ends_; }
  /// Subscriber `index`'s end as its command-line endpoint (the inherited fd number).
  [[nodiscard]] std::string endpoint(int index) const;
  /// The descriptors subscriber `index` inherits across exec.
  [[nodiscard]] std::vector<int> inherited_fds(int index) const;
  /// Every subscriber process holds its end now: the publisher's copies go.
  void close_subscriber_ends() noexcept;

 private:
  std::vector<int> publisher_ends_;
  std::vector<int> subscriber_ends_;  ///< -1 once closed
};

}  // namespace shmsnap::bench
