// PublishRate: a topic's publish rate as `shmsnap serve` shows it (dashboard,
// /api/topics, shmsnap_topic_publish_rate_hertz). Measured from the publisher's own
// stamps, not from when the server happened to look: each sample gives the newest
// snapshot's (seq, publish time), and the rate is the sequence delta over the
// publish-time delta across a window of such observations, so a periodic topic reads
// its exact rate whatever the sample period (0.1 Hz to 10 kHz). A topic that slows
// down or stops is bounded by the time since its last publish: a rate of r claims a
// publish every 1/r seconds, which a last publish more than two periods (and more
// than stall_grace_s) ago disproves.
// Sampler thread only.
#pragma once

#include <cstdint>
#include <deque>

namespace shmsnap::serve {

class PublishRate {
 public:
  /// How far back the window reaches (at least two observations are always kept, so
  /// a topic slower than this still has a rate).
  static constexpr std::int64_t window_ns = 10'000'000'000;
  /// Observations kept at most (a fast topic adds one per sample).
  static constexpr std::size_t max_observations = 512;
  /// A publisher late by less than this is not yet taken as slowed down (a loaded
  /// machine delays a 1 kHz publisher by milliseconds without changing its rate).
  static constexpr double stall_grace_s = 1.0;

  /// One sample of the topic: its epoch and newest snapshot's seq and publish time
  /// (CLOCK_MONOTONIC). A new epoch, or a seq or time that goes backwards, restarts
  /// the window: the counts of two publishers are not comparable.
  void observe(std::uint64_t epoch, std::uint64_t seq, std::int64_t publish_ts_ns) noexcept;
  /// Forgets everything (the topic has no snapshot, or its publisher is gone).
  void reset() noexcept;

  /// Publishes per second at `now_ns` (CLOCK_MONOTONIC, read after the observation);
  /// 0 until two publishes were seen.
  [[nodiscard]] double hertz(std::int64_t now_ns) const noexcept;
  /// The span of publish times the rate is measured over, in seconds (0 = no rate yet).
  [[nodiscard]] double window_seconds() const noexcept;

 private:
  struct Observation {
    std::uint64_t seq;
    std::int64_t publish_ts_ns;
  };
  std::uint64_t epoch_ = 0;
  std::deque<Observation> observations_;  // oldest first, strictly increasing seq and time
};

}  // namespace shmsnap::serve
