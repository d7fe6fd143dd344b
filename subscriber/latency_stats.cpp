#include "latency_stats.hpp"

#include <algorithm>
#include <cmath>

namespace shmsnap::app {

void LatencyStats::add(std::int64_t nanoseconds) {
  ++count_;
  if (samples_.size() < capacity_) {
    samples_.push_back(nanoseconds);
    return;
  }
  const std::uint64_t slot = std::uniform_int_distribution<std::uint64_t>(0, count_ - 1)(random_);
  if (slot < capacity_) {
    samples_[static_cast<std::size_t>(slot)] = nanoseconds;
  }
}

std::int64_t LatencyStats::percentile(double fraction) const {
  if (samples_.empty()) {
    return 0;
  }
  std::vector<std::int64_t> sorted = samples_;
  const double rank = std::ceil(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(sorted.size()));
  const std::size_t index = rank < 1.0 ? 0 : static_cast<std::size_t>(rank) - 1;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(index), sorted.end());
  return sorted[index];
}

}  // namespace shmsnap::app
