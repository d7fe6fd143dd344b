// The history `shmsnap serve` keeps of a topic's numeric fields (serve/field_history.hpp)
// and its route, in-process: which leaves are kept, the two rings' bounds, the
// buckets' mean/min/max, wall-clock times, and the answers to bad windows.
#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "field_history.hpp"
#include "router.hpp"

namespace shmsnap::serve {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::ordered_json;

constexpr std::int64_t ms = 1'000'000;  // in nanoseconds
constexpr std::int64_t start_ns = 1'000'000'000'000;

Json pose(double x, double y) {
  return Json{{"stamp", {{"sec", 7}, {"nanosec", 8}}},
              {"position", {{"x", x}, {"y", y}}},
              {"label", "a string is not plotted"},
              {"ok", true},
              {"ladder", {1, 2, 3}}};
}

const Json& field_named(const Json& answer, const std::string& name) {
  for (const Json& field : answer.at("fields")) {
    if (field.at("field") == name) {
      return field;
    }
  }
  throw std::runtime_error("no field " + name + " in " + answer.dump());
}

TEST(FieldHistory, KeepsScalarNumbersAndBooleansByPathButNotStringsOrArrays) {
  FieldHistory history(100ms);
  history.record(pose(1.5, -2), start_ns);
  EXPECT_EQ(history.fields(),
            (std::vector<std::string>{"stamp.sec", "stamp.nanosec", "position.x", "position.y", "ok"}));
  const Json answer = history.to_json(60s, start_ns, 0);
  EXPECT_EQ(answer.at("resolution"), "sample");
  EXPECT_EQ(field_named(answer, "position.x").at("points"), Json::parse("[[1000000, 1.5]]"));
  EXPECT_EQ(field_named(answer, "ok").at("points"), Json::parse("[[1000000, 1.0]]"));
}

TEST(FieldHistory, TheFineRingHoldsTheLastMinuteOldestFirstWithWallClockTimes) {
  FieldHistory history(100ms);
  // Three minutes of samples every 100 ms: the fine ring keeps only the last minute.
  for (int sample = 0; sample < 1800; ++sample) {
    history.record(pose(sample, 0), start_ns + sample * 100 * ms);
  }
  const std::int64_t now_ns = start_ns + 1799 * 100 * ms;
  const std::int64_t offset_ns = 5'000 * ms;  // realtime is 5 s ahead of monotonic
  const Json points = field_named(history.to_json(60s, now_ns, offset_ns), "position.x").at("points");
  ASSERT_GE(points.size(), 590U);
  ASSERT_LE(points.size(), 601U);
  EXPECT_EQ(points.back()[1].get<double>(), 1799);
  EXPECT_EQ(points.back()[0].get<std::int64_t>(), (now_ns + offset_ns) / ms);
  for (std::size_t index = 1; index < points.size(); ++index) {
    ASSERT_LT(points[index - 1][0].get<std::int64_t>(), points[index][0].get<std::int64_t>()) << index;
  }
  const Json recent = field_named(history.to_json(2s, now_ns, 0), "position.x").at("points");
  EXPECT_EQ(recent.size(), 21U);  // the samples of the last 2 s, both ends included
}

TEST(FieldHistory, LongWindowsAnswerFiveSecondBucketsWithMeanMinAndMax) {
  FieldHistory history(100ms);
  // Twenty minutes at 10 Hz; values 0..49 repeat every 5 s.
  const int samples = 20 * 60 * 10;
  for (int sample = 0; sample < samples; ++sample) {
    history.record(pose(sample % 50, 0), start_ns + sample * 100 * ms);
  }
  const std::int64_t now_ns = start_ns + (samples - 1) * 100 * ms;
  const Json answer = history.to_json(600s, now_ns, 0);
  EXPECT_EQ(answer.at("resolution"), "bucket");
  EXPECT_EQ(answer.at("bucket_seconds"), 5);
  const Json points = field_named(answer, "position.x").at("points");
  ASSERT_GE(points.size(), 120U);
  ASSERT_LE(points.size(), 121U);
  const Json& full = points[points.size() / 2];
  EXPECT_DOUBLE_EQ(full[1].get<double>(), 24.5);  // the mean of 0..49
  EXPECT_EQ(full[2].get<double>(), 0);
  EXPECT_EQ(full[3].get<double>(), 49);
  // The longest window still holds fifteen minutes, no more.
  const Json all = field_named(history.to_json(FieldHistory::longest_window, now_ns, 0), "position.x").at("points");
  EXPECT_LE(all.size(), FieldHistory::bucket_count);
  EXPECT_GE(all.size(), FieldHistory::bucket_count - 1);
}

TEST(FieldHistory, AnotherSetOfFieldsStartsOverAndAtMostSixteenAreKept) {
  FieldHistory history(100ms);
  history.record(pose(1, 2), start_ns);
  Json wide = Json::object();
  for (int index = 0; index < 40; ++index) {
    wide["f" + std::to_string(index)] = index;
  }
  history.record(wide, start_ns + 100 * ms);
  ASSERT_EQ(history.fields().size(), FieldHistory::max_fields);
  EXPECT_EQ(history.fields().front(), "f0");
  const Json answer = history.to_json(60s, start_ns + 100 * ms, 0);
  EXPECT_EQ(field_named(answer, "f0").at("points").size(), 1U);  // the pose's points are gone
}

TEST(FieldHistory, NonFiniteValuesAreGapsNotPoison) {
  FieldHistory history(100ms);
  history.record(pose(std::numeric_limits<double>::quiet_NaN(), 0), start_ns);
  history.record(pose(4, 0), start_ns + 100 * ms);
  const Json fine = field_named(history.to_json(60s, start_ns + 100 * ms, 0), "position.x").at("points");
  EXPECT_TRUE(fine[0][1].is_null());
  const Json coarse = field_named(history.to_json(600s, start_ns + 100 * ms, 0), "position.x").at("points");
  ASSERT_EQ(coarse.size(), 1U);
  EXPECT_EQ(coarse[0][1].get<double>(), 4);
}

TEST(ServeRouter, HistoryRouteChecksItsWindowAndNamesAMissingTopic) {
  auto model = std::make_shared<ModelSnapshot>();
  model->prefix = "p";
  ServerStats stats;
  std::chrono::seconds asked{0};
  RouteContext context{model,
                       &stats,
                       "",
                       true,
                       nullptr,
                       [&asked](const std::string& topic, std::chrono::seconds window) -> std::optional<Json> {
                         asked = window;
                         if (topic != "pose") {
                           return std::nullopt;
                         }
                         return Json{{"topic", topic}};
                       }};
  auto get = [&context](std::string target) {
    http::Request request;
    request.method = "GET";
    request.target = target;
    request.host = "127.0.0.1";
    return *route(request, context).reply;
  };
  EXPECT_EQ(get("/api/topics/pose/history").status, 200U);
  EXPECT_EQ(asked, 60s);
  EXPECT_EQ(get("/api/topics/pose/history?window=900").status, 200U);
  EXPECT_EQ(asked, 900s);
  for (const char* bad : {"0", "901", "-5", "1e3", "", "99999999999999999999"}) {
    const auto reply = get(std::string("/api/topics/pose/history?window=") + bad);
    EXPECT_EQ(reply.status, 400U) << bad;
    EXPECT_NE(reply.body.find("1 to 900"), std::string::npos) << reply.body;
  }
  const auto missing = get("/api/topics/other/history");
  EXPECT_EQ(missing.status, 404U);
  EXPECT_NE(missing.body.find("'other'"), std::string::npos) << missing.body;
  // A topic called "history" is a topic, not its history.
  EXPECT_NE(get("/api/topics/history").body.find("no topic 'history'"), std::string::npos);
}

}  // namespace
}  // namespace shmsnap::serve
