// One owned file descriptor, closed exactly once. Descriptors received over a
// socket are held in these from the moment recvmsg returns, so no error path can
// leak one. Used by one thread at a time.
#pragma once

#include <unistd.h>

#include <utility>

namespace shmsnap::detail {

class UniqueFd {
 public:
  UniqueFd() = default;
  /// Takes ownership of `descriptor` (-1: owns nothing).
  explicit UniqueFd(int descriptor) noexcept : descriptor_(descriptor) {}
  UniqueFd(UniqueFd&& other) noexcept : descriptor_(std::exchange(other.descriptor_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset(std::exchange(other.descriptor_, -1));
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  /// Closes the descriptor.
  ~UniqueFd() { reset(); }

  /// Closes the held descriptor and takes `descriptor` instead.
  void reset(int descriptor = -1) noexcept {
    if (descriptor_ >= 0) {
      ::close(descriptor_);
    }
    descriptor_ = descriptor;
  }
  /// Gives the descriptor up without closing it.
  [[nodiscard]] int release() noexcept { return std::exchange(descriptor_, -1); }
  [[nodiscard]] int get() const noexcept { return descriptor_; }
  [[nodiscard]] bool valid() const noexcept { return descriptor_ >= 0; }

 private:
  int descriptor_ = -1;
};

}  // namespace shmsnap::detail
