// common/stats: nearest-rank percentiles, the exact summary the benchmarks print and
// the bounded reservoir the subscriber daemon keeps for days.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "latency_reservoir.hpp"
#include "latency_summary.hpp"

namespace shmsnap::stats {
namespace {

TEST(LatencySummary, PercentilesAreNearestRankOverTheSortedSamples) {
  std::vector<std::int64_t> samples;
  for (std::int64_t value = 1000; value >= 1; --value) {
    samples.push_back(value);
  }
  const LatencySummary summary = summarize(samples);
  EXPECT_EQ(summary.samples, 1000U);
  EXPECT_EQ(summary.min_ns, 1);
  EXPECT_EQ(summary.p50_ns, 500);
  EXPECT_EQ(summary.p90_ns, 900);
  EXPECT_EQ(summary.p99_ns, 990);
  EXPECT_EQ(summary.p999_ns, 999);
  EXPECT_EQ(summary.max_ns, 1000);
  EXPECT_DOUBLE_EQ(summary.mean_ns, 500.5);
  EXPECT_EQ(percentile_of_sorted(samples, 0.0), 1);
  EXPECT_EQ(percentile_of_sorted({}, 0.5), 0);
}

TEST(LatencySummary, TheCdfEndsAtTheMaximumAndNeverDecreases) {
  std::vector<std::int64_t> sorted;
  for (std::int64_t value = 1; value <= 100'000; ++value) {
    sorted.push_back(value);
  }
  const std::vector<CdfPoint> points = cdf_points(sorted, 50);
  ASSERT_GE(points.size(), 2U);
  EXPECT_LE(points.size(), 51U);
  for (std::size_t index = 1; index < points.size(); ++index) {
    EXPECT_GT(points[index].fraction, points[index - 1].fraction);
    EXPECT_GE(points[index].latency_ns, points[index - 1].latency_ns);
  }
  EXPECT_EQ(points.back().latency_ns, 100'000);
  EXPECT_DOUBLE_EQ(points.back().fraction, 1.0);
}

TEST(LatencyReservoir, PercentilesAreNearestRankOverTheSamples) {
  LatencyReservoir stats;
  EXPECT_EQ(stats.percentile(0.5), 0);
  for (std::int64_t value = 100; value >= 1; --value) {
    stats.add(value * 1000);
  }
  EXPECT_EQ(stats.count(), 100U);
  EXPECT_EQ(stats.percentile(0.50), 50'000);
  EXPECT_EQ(stats.percentile(0.99), 99'000);
  EXPECT_EQ(stats.percentile(1.0), 100'000);
}

TEST(LatencyReservoir, BeyondCapacityKeepsABoundedUniformSample) {
  LatencyReservoir stats(1000);
  for (std::int64_t value = 1; value <= 100'000; ++value) {
    stats.add(value);
  }
  EXPECT_EQ(stats.count(), 100'000U);
  // A uniform reservoir's median lands near the middle; the bound is loose on purpose.
  EXPECT_GT(stats.percentile(0.5), 35'000);
  EXPECT_LT(stats.percentile(0.5), 65'000);
}

}  // namespace
}  // namespace shmsnap::stats
