#include "publish_rate.hpp"

namespace shmsnap::serve {

void PublishRate::observe(std::uint64_t epoch, std::uint64_t seq, std::int64_t publish_ts_ns) noexcept {
  if (epoch != epoch_) {
    observations_.clear();
    epoch_ = epoch;
  }
  if (!observations_.empty()) {
    const Observation& newest = observations_.back();
    if (seq == newest.seq) {
      return;  // nothing published since the last sample
    }
    if (seq < newest.seq || publish_ts_ns <= newest.publish_ts_ns) {
      observations_.clear();  // a regressed region (recovered, tampered): start over
    }
  }
  observations_.push_back(Observation{seq, publish_ts_ns});
  // Keep the window's span just under window_ns, but never fewer than two
  // observations: a topic slower than the window still has an interval to measure.
  while (observations_.size() > 2 &&
         (observations_.size() > max_observations || publish_ts_ns - observations_[1].publish_ts_ns >= window_ns)) {
    observations_.pop_front();
  }
}

void PublishRate::reset() noexcept {
  observations_.clear();
  epoch_ = 0;
}

double PublishRate::hertz(std::int64_t now_ns) const noexcept {
  if (observations_.size() < 2) {
    return 0;
  }
  const Observation& oldest = observations_.front();
  const Observation& newest = observations_.back();
  const double span_s = static_cast<double>(newest.publish_ts_ns - oldest.publish_ts_ns) / 1e9;
  const double rate = static_cast<double>(newest.seq - oldest.seq) / span_s;
  // Nothing was published for `since_s`: once that is longer than two of the
  // measured intervals (and than a scheduling hiccup of a fast publisher), the rate
  // is at most one publish in that time. A periodic topic's last publish is always
  // less than a period ago, so this never lowers its rate; it brings a stopped or
  // slowed topic down instead of showing its old rate forever.
  const double since_s = static_cast<double>(now_ns - newest.publish_ts_ns) / 1e9;
  if (since_s > 2 / rate && since_s > stall_grace_s) {
    return 1 / since_s;
  }
  return rate;
}

double PublishRate::window_seconds() const noexcept {
  if (observations_.size() < 2) {
    return 0;
  }
  return static_cast<double>(observations_.back().publish_ts_ns - observations_.front().publish_ts_ns) / 1e9;
}

}  // namespace shmsnap::serve
