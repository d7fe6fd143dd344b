// Foxglove history replay (serve/foxglove_history.hpp), in-process, from a real
// FieldHistory: the replayed messages are oldest first, stop before the current
// value, carry each field with the type the current value gives it, leave strings,
// arrays and vanished fields out, and thin out to fit a byte budget.
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "field_history.hpp"
#include "foxglove_history.hpp"

namespace shmsnap::serve::foxglove {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::ordered_json;

constexpr std::int64_t ms = 1'000'000;  // in nanoseconds
constexpr std::int64_t start_ns = 1'000'000'000'000;
constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

Json reading(double x, std::int64_t count, bool ok) {
  return Json{{"position", {{"x", x}}}, {"count", count}, {"ok", ok}, {"label", "text"}, {"ladder", {1, 2}}};
}

// Ten samples 100 ms apart; realtime equals monotonic, so wall ms = monotonic / 1e6.
Json ten_samples() {
  FieldHistory history(100ms);
  for (int sample = 0; sample < 10; ++sample) {
    history.record(reading(sample + 0.5, sample * 10, sample % 2 == 0), start_ns + sample * 100 * ms);
  }
  return history.to_json(60s, start_ns + 900 * ms, 0);
}

TEST(FoxgloveHistory, ReplaysEachSampleOldestFirstTypedLikeTheCurrentValue) {
  const Json current = reading(9.5, 90, false);
  const std::vector<ReplayedMessage> messages =
      history_messages(ten_samples(), current, start_ns + 10'000 * ms, unlimited);
  ASSERT_EQ(messages.size(), 10U);
  for (std::size_t index = 0; index < messages.size(); ++index) {
    EXPECT_EQ(messages[index].timestamp_ns,
              static_cast<std::uint64_t>(start_ns + static_cast<std::int64_t>(index) * 100 * ms));
  }
  // Integers stay integers and booleans booleans (a JSON Schema checks the type);
  // strings and arrays are left out rather than filled in with today's values.
  EXPECT_EQ(Json::parse(messages[3].json), Json::parse(R"({"position": {"x": 3.5}, "count": 30, "ok": false})"));
  EXPECT_EQ(Json::parse(messages[4].json), Json::parse(R"({"position": {"x": 4.5}, "count": 40, "ok": true})"));
}

TEST(FoxgloveHistory, StopsBeforeTheCurrentValueWhichTheLiveStreamSends) {
  const std::vector<ReplayedMessage> messages =
      history_messages(ten_samples(), reading(0, 0, true), start_ns + 500 * ms, unlimited);
  ASSERT_EQ(messages.size(), 5U);
  EXPECT_EQ(messages.back().timestamp_ns, static_cast<std::uint64_t>(start_ns + 400 * ms));
}

TEST(FoxgloveHistory, LeavesOutFieldsTheCurrentValueNoLongerHasOrTypesAsText) {
  const Json current = Json{{"position", {{"x", "now a string"}}}, {"ok", true}};
  const std::vector<ReplayedMessage> messages =
      history_messages(ten_samples(), current, start_ns + 10'000 * ms, unlimited);
  ASSERT_EQ(messages.size(), 10U);
  EXPECT_EQ(Json::parse(messages[0].json), Json::parse(R"({"ok": true})"));
  // A current value with none of the fields replays nothing.
  EXPECT_TRUE(history_messages(ten_samples(), Json{{"other", 1}}, start_ns + 10'000 * ms, unlimited).empty());
}

TEST(FoxgloveHistory, ThinsOutToTheBudgetKeepingTheNewest) {
  const Json current = reading(0, 0, true);
  const std::vector<ReplayedMessage> all = history_messages(ten_samples(), current, start_ns + 10'000 * ms, unlimited);
  std::size_t all_bytes = 0;
  for (const ReplayedMessage& message : all) {
    all_bytes += 13 + message.json.size();
  }
  // Just over half the bytes (the odd samples are a little longer): every other one fits.
  const std::vector<ReplayedMessage> half =
      history_messages(ten_samples(), current, start_ns + 10'000 * ms, all_bytes * 6 / 10);
  ASSERT_EQ(half.size(), 5U);
  EXPECT_EQ(half.back().timestamp_ns, all.back().timestamp_ns);
  EXPECT_EQ(half.front().timestamp_ns, all[1].timestamp_ns);
  EXPECT_TRUE(history_messages(ten_samples(), current, start_ns + 10'000 * ms, 10).empty());
}

TEST(FoxgloveHistory, BucketAnswersAndMalformedHistoriesReplayNothing) {
  const Json current = reading(0, 0, true);
  Json buckets = ten_samples();
  buckets["resolution"] = "bucket";
  EXPECT_TRUE(history_messages(buckets, current, start_ns + 10'000 * ms, unlimited).empty());
  for (const char* text :
       {R"(null)", R"({"resolution": "sample"})", R"({"resolution": "sample", "fields": 7})",
        R"({"resolution": "sample", "fields": [{"field": "count", "points": [[1, "x"], [2], 3, [-5, 1]]}]})",
        R"({"resolution": "sample", "fields": [{"field": "count", "points": [[9223372036854775807, 1]]}]})"}) {
    EXPECT_TRUE(history_messages(Json::parse(text), current, start_ns + 10'000 * ms, unlimited).empty()) << text;
  }
  // An integer field whose recorded value no longer fits is skipped, not wrapped.
  const Json huge = Json::parse(R"({"resolution": "sample", "fields": [{"field": "count", "points": [[5, 1e30]]}]})");
  EXPECT_TRUE(history_messages(huge, current, start_ns + 10'000 * ms, unlimited).empty());
}

}  // namespace
}  // namespace shmsnap::serve::foxglove
