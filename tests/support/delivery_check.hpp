// The invariants every snapshot a test subscriber receives must keep: its payload
// is intact and carries the sequence UpdateInfo reports (no torn copy), and within
// one publisher incarnation sequences only grow. Used by the test peers' subscriber
// roles on their own thread.
#pragma once

#include <cstdint>

#include "shmsnap/subscriber.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {

/// What one delivery broke.
struct DeliveryVerdict {
  bool torn = false;               ///< words from two publishes, or a payload seq that is not info.seq
  bool regressed = false;          ///< not newer than the previous delivery of the same epoch
  std::uint64_t previous_seq = 0;  ///< the sequence delivered before this one
};

/// Checks deliveries in order; one per subscriber.
class DeliveryCheck {
 public:
  /// `epoch`: the incarnation already attached to (0: none yet), whose sequence must grow.
  explicit DeliveryCheck(std::uint64_t epoch) noexcept : last_epoch_(epoch) {}

  /// Checks one delivery against the payload and the previous one, then remembers it.
  DeliveryVerdict check(const TestSnapshot& snapshot, const UpdateInfo& info) noexcept {
    const DeliveryVerdict verdict{.torn = !snapshot.intact() || snapshot.seq != info.seq,
                                  .regressed = info.epoch == last_epoch_ && info.seq <= last_seq_,
                                  .previous_seq = last_seq_};
    last_seq_ = info.seq;
    last_epoch_ = info.epoch;
    ++delivered_;
    return verdict;
  }

  /// After the publisher is lost: the next delivery comes from a new incarnation,
  /// which restarts its sequence, possibly under a reused epoch.
  void forget_incarnation() noexcept {
    last_seq_ = 0;
    last_epoch_ = 0;
  }

  [[nodiscard]] std::uint64_t delivered() const noexcept { return delivered_; }
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_seq_; }
  [[nodiscard]] std::uint64_t last_epoch() const noexcept { return last_epoch_; }

 private:
  std::uint64_t delivered_ = 0;
  std::uint64_t last_seq_ = 0;
  std::uint64_t last_epoch_ = 0;
};

}  // namespace shmsnap::test
