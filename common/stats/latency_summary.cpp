// Exact-sample latency statistics (see latency_summary.hpp).
#include "latency_summary.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace shmsnap::stats {

std::int64_t percentile_of_sorted(std::span<const std::int64_t> sorted, double q) noexcept {
  if (sorted.empty())
    return 0;
  // Nearest rank: the smallest sample with at least q of the samples at or below it.
  const double rank = std::ceil(q * static_cast<double>(sorted.size()));
  const auto index = static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(sorted.size()))) - 1;
  return sorted[index];
}

LatencySummary summarize(std::vector<std::int64_t>& samples) {
  LatencySummary summary;
  if (samples.empty())
    return summary;
  std::sort(samples.begin(), samples.end());
  summary.samples = samples.size();
  summary.min_ns = samples.front();
  summary.max_ns = samples.back();
  summary.p50_ns = percentile_of_sorted(samples, 0.50);
  summary.p90_ns = percentile_of_sorted(samples, 0.90);
  summary.p99_ns = percentile_of_sorted(samples, 0.99);
  summary.p999_ns = percentile_of_sorted(samples, 0.999);
  // long double keeps the sum exact enough for a million samples of up to seconds.
  const long double sum = std::accumulate(samples.begin(), samples.end(), 0.0L, [](long double acc, std::int64_t v) {
    return acc + static_cast<long double>(v);
  });
  summary.mean_ns = static_cast<double>(sum / static_cast<long double>(samples.size()));
  return summary;
}

std::vector<CdfPoint> cdf_points(std::span<const std::int64_t> sorted, std::size_t max_points) {
  std::vector<CdfPoint> points;
  if (sorted.empty() || max_points < 2)
    return points;
  const double n = static_cast<double>(sorted.size());
  // Tail probability runs from 1 down to 1/n; equal steps in its logarithm.
  const double log_min_tail = std::log10(1.0 / n);
  const std::size_t steps = max_points - 1;
  std::size_t last_index = sorted.size();
  for (std::size_t step = 0; step <= steps; ++step) {
    const double tail = std::pow(10.0, log_min_tail * static_cast<double>(step) / static_cast<double>(steps));
    const double fraction = std::clamp(1.0 - tail, 0.0, 1.0);
    const auto index = static_cast<std::size_t>(std::clamp(std::ceil(fraction * n), 1.0, n)) - 1;
    if (index == last_index)
      continue;
    last_index = index;
    points.push_back({static_cast<double>(index + 1) / n, sorted[index]});
  }
  if (points.back().latency_ns != sorted.back())
    points.push_back({1.0, sorted.back()});
  return points;
}

}  // namespace shmsnap::stats
