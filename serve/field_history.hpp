// FieldHistory: what `shmsnap serve` remembers of one topic's numeric fields, so a
// page opened now (and /api/topics/T/history) shows the minutes before it. Two
// bounded rings: every sample of the last minute, and 5-second buckets (mean, min,
// max) of the last 15 minutes. Times are CLOCK_MONOTONIC, turned into wall-clock
// milliseconds only when answered, so a clock step never reorders the points.
// Not thread-safe: the sampler records, a reader copies it out under the sampler's lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace shmsnap::serve {

class FieldHistory {
 public:
  /// Numeric fields kept per topic, in the order the value lists them; more are
  /// not recorded (the memory of 500 topics stays bounded).
  static constexpr std::size_t max_fields = 16;
  /// The fine ring covers this span at one point per sample.
  static constexpr std::chrono::seconds fine_span{60};
  /// Coarse buckets: their width and how many are kept (15 minutes).
  static constexpr std::chrono::seconds bucket_width{5};
  static constexpr std::size_t bucket_count = 180;
  /// The longest window a request may ask for.
  static constexpr std::chrono::seconds longest_window = bucket_width * bucket_count;

  /// `sample_period` sizes the fine ring (60 s of samples, at most 2400 points).
  explicit FieldHistory(std::chrono::milliseconds sample_period);

  /// Records the scalar numeric leaves of `value` (objects by dotted path; arrays
  /// are not kept) at `monotonic_ns`. A value whose set of fields differs from the
  /// recorded one (another schema) starts the history afresh.
  void record(const nlohmann::ordered_json& value, std::int64_t monotonic_ns);

  /// The points of the last `window` (clamped to 1 s..longest_window):
  /// {"window_seconds", "resolution_seconds", "fields": [{"field", "points"}]}.
  /// Points are [wall-clock ms, value] from the fine ring when it covers the window,
  /// else [ms, mean, min, max] per bucket. `realtime_offset_ns` = realtime - monotonic now.
  [[nodiscard]] nlohmann::ordered_json to_json(std::chrono::seconds window, std::int64_t now_monotonic_ns,
                                               std::int64_t realtime_offset_ns) const;

  [[nodiscard]] const std::vector<std::string>& fields() const noexcept { return fields_; }

 private:
  struct Bucket {
    double sum = 0;
    double min = 0;
    double max = 0;
    std::uint32_t count = 0;
  };

  void reset(std::vector<std::string> fields);

  std::vector<std::string> fields_;
  std::size_t fine_capacity_;
  // Fine ring: times and, per field, values; fine_next_ is where the next point goes.
  std::vector<std::int64_t> fine_times_;
  std::vector<std::vector<double>> fine_values_;
  std::size_t fine_next_ = 0;
  // Coarse ring of buckets, indexed by bucket number modulo bucket_count.
  std::vector<std::int64_t> bucket_numbers_;  // which bucket each slot holds; -1 = empty
  std::vector<std::vector<Bucket>> buckets_;  // per field
};

}  // namespace shmsnap::serve
