// Latency percentiles of one subscriber: exact over every sample up to a bound,
// then a uniform reservoir of that many (Algorithm R), so a daemon that runs for
// days keeps bounded memory and unbiased percentiles. One thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace shmsnap::stats {

class LatencyReservoir {
 public:
  /// Keeps at most `capacity` samples (exact below it).
  explicit LatencyReservoir(std::size_t capacity = 1U << 20) : capacity_(capacity) {}

  /// Records one latency in nanoseconds.
  void add(std::int64_t nanoseconds);
  /// Samples recorded (not only kept).
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// The `fraction` quantile (0..1) in nanoseconds of the kept samples, nearest-rank
  /// (latency_summary.hpp); 0 with no samples.
  [[nodiscard]] std::int64_t percentile(double fraction) const;

 private:
  std::size_t capacity_;
  std::uint64_t count_ = 0;
  std::vector<std::int64_t> samples_;
  std::minstd_rand random_{12345};
};

}  // namespace shmsnap::stats
