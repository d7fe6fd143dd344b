#include "latency_reservoir.hpp"

#include <algorithm>

#include "latency_summary.hpp"

namespace shmsnap::stats {

void LatencyReservoir::add(std::int64_t nanoseconds) {
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

std::int64_t LatencyReservoir::percentile(double fraction) const {
  std::vector<std::int64_t> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  return percentile_of_sorted(sorted, std::clamp(fraction, 0.0, 1.0));
}

}  // namespace shmsnap::stats
