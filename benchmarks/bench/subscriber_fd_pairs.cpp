// SubscriberFdPairs: see subscriber_fd_pairs.hpp.
#include "bench/subscriber_fd_pairs.hpp"

#include <unistd.h>

namespace shmsnap::bench {

SubscriberFdPairs::~SubscriberFdPairs() {
  for (int fd : publisher_ends_)
    close(fd);
  close_subscriber_ends();
}

void SubscriberFdPairs::add(int publisher_end, int subscriber_end) {
  publisher_ends_.push_back(publisher_end);
  subscriber_ends_.push_back(subscriber_end);
}

std::string SubscriberFdPairs::endpoint(int index) const {
  return std::to_string(subscriber_ends_.at(static_cast<std::size_t>(index)));
}

std::vector<int> SubscriberFdPairs::inherited_fds(int index) const {
  return {subscriber_ends_.at(static_cast<std::size_t>(index))};
}

void SubscriberFdPairs::close_subscriber_ends() noexcept {
  for (int& fd : subscriber_ends_) {
    if (fd >= 0)
      close(fd);
    fd = -1;
  }
}

}  // namespace shmsnap::bench
