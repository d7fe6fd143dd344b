// Latency statistics from exact samples: nearest-rank percentiles, a summary and
// a CDF for plots. Exact order statistics rather than histogram estimates; the
// one percentile rule of every shmsnap program. Pure functions, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace shmsnap::stats {

/// Order statistics of one set of latency samples, in nanoseconds.
struct LatencySummary {
  std::size_t samples = 0;
  std::int64_t min_ns = 0;
  std::int64_t p50_ns = 0;
  std::int64_t p90_ns = 0;
  std::int64_t p99_ns = 0;
  std::int64_t p999_ns = 0;
  std::int64_t max_ns = 0;
  double mean_ns = 0.0;
};

/// One point of an empirical CDF: `fraction` of the samples are <= `latency_ns`.
struct CdfPoint {
  double fraction = 0.0;
  std::int64_t latency_ns = 0;
};

/// Nearest-rank percentile (q in [0,1]) of ascending `sorted`; 0 when empty.
[[nodiscard]] std::int64_t percentile_of_sorted(std::span<const std::int64_t> sorted, double q) noexcept;

/// Sorts `samples` in place and summarises them.
[[nodiscard]] LatencySummary summarize(std::vector<std::int64_t>& samples);

/// At most about `max_points` points of the CDF of ascending `sorted`, spaced evenly in
/// log(1 - fraction) so the tail (p99, p99.9, max) keeps its resolution in a plot.
[[nodiscard]] std::vector<CdfPoint> cdf_points(std::span<const std::int64_t> sorted, std::size_t max_points);

}  // namespace shmsnap::stats
