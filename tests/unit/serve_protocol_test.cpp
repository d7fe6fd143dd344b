// The pure parts of shmsnap serve, in-process: query parsing, the token and Host
// checks, the router's answers, the publish rate, and the Foxglove message parser
// and encoder.
#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "foxglove_protocol.hpp"
#include "publish_rate.hpp"
#include "request_query.hpp"
#include "router.hpp"
#include "serve_options.hpp"
#include "shmsnap/error.hpp"

namespace shmsnap::serve {
namespace {

TEST(ServeQuery, DecodesParametersAndKeepsMalformedEscapes) {
  const auto parameters = query_parameters("/events?topic=a%2Eb&token=x+y&bad=%zz&flag");
  EXPECT_EQ(parameters.at("topic"), "a.b");
  EXPECT_EQ(parameters.at("token"), "x y");
  EXPECT_EQ(parameters.at("bad"), "%zz");
  EXPECT_EQ(parameters.at("flag"), "");
  EXPECT_TRUE(query_parameters("/metrics").empty());
}

TEST(ServeQuery, TokenMatchesOnlyTheExactToken) {
  EXPECT_TRUE(token_matches("s3cret", "s3cret"));
  EXPECT_FALSE(token_matches("s3cre", "s3cret"));
  EXPECT_FALSE(token_matches("s3cretX", "s3cret"));
  EXPECT_FALSE(token_matches("", ""));
}

TEST(ServeQuery, LoopbackHosts) {
  for (const char* host : {"127.0.0.1", "127.0.0.1:9464", "localhost", "localhost:1", "[::1]", "[::1]:8765"}) {
    EXPECT_TRUE(host_is_loopback(host)) << host;
  }
  for (const char* host : {"", "evil.example", "127.0.0.1.evil", "127.0.0", "[::1]x", "10.0.0.1", "localhost.evil"}) {
    EXPECT_FALSE(host_is_loopback(host)) << host;
  }
}

TEST(ServeOptions, EndpointsAndTheLoopbackDefault) {
  EXPECT_EQ(parse_endpoint("127.0.0.1:9464").port, 9464);
  EXPECT_EQ(parse_endpoint("[::1]:80").host, "::1");
  EXPECT_EQ(parse_endpoint(":9").host, "127.0.0.1");
  for (const char* bad : {"", "9464", "host:1", "1.2.3.4:99999", "::1:80", "[::1]80"}) {
    EXPECT_THROW((void)parse_endpoint(bad), Error) << bad;
  }
  Options options;
  options.listen = parse_endpoint("0.0.0.0:9464");
  EXPECT_THROW(validate(options), Error);
  options.allow_remote = true;
  EXPECT_NO_THROW(validate(options));
  options.token = "has space";
  EXPECT_THROW(validate(options), Error);
}

TEST(ServeRouter, ReadOnlyTokenAndTopics) {
  auto model = std::make_shared<ModelSnapshot>();
  model->prefix = "p";
  TopicState topic;
  topic.name = "pose";
  topic.valid = true;
  topic.value = {{"x", 1.5}};
  topic.value_seq = 3;
  topic.field_notes = std::make_shared<const nlohmann::ordered_json>(
      nlohmann::ordered_json{{"x", {{"unit", "m"}, {"description", "Along the rail."}}}});
  model->topics.push_back(topic);
  ServerStats stats;
  const RouteContext open{model, &stats, "", true};
  const RouteContext guarded{model, &stats, "t0k", true};
  const auto status = [](const Route& route) { return route.reply ? route.reply->status : 0U; };

  EXPECT_EQ(status(route({"POST", "/metrics", "", "127.0.0.1"}, open)), 405U);
  EXPECT_EQ(status(route({"GET", "/metrics", "", "evil.example"}, open)), 403U);
  EXPECT_EQ(status(route({"GET", "/", "", "localhost"}, guarded)), 200U);
  // The icon a browser asks for by itself is there (not a 404 in its console).
  for (const char* icon : {"/favicon.ico", "/favicon.svg"}) {
    const Route favicon = route({"GET", icon, "", "localhost"}, guarded);
    ASSERT_EQ(status(favicon), 200U) << icon;
    EXPECT_EQ(favicon.reply->content_type, "image/svg+xml") << icon;
    EXPECT_EQ(favicon.reply->body.rfind("<svg", 0), 0U) << icon;
  }
  EXPECT_EQ(status(route({"GET", "/api/topics", "", "localhost"}, guarded)), 401U);
  EXPECT_EQ(status(route({"GET", "/api/topics", "Bearer t0k", "localhost"}, guarded)), 200U);
  EXPECT_EQ(status(route({"GET", "/api/topics/nothing", "", "localhost"}, open)), 404U);
  const Route detail = route({"GET", "/api/topics/pose", "", "localhost"}, open);
  ASSERT_EQ(status(detail), 200U);
  EXPECT_NE(detail.reply->body.find("\"value\":{\"x\":1.5}"), std::string::npos);
  EXPECT_NE(detail.reply->body.find(R"("fields":{"x":{"unit":"m","description":"Along the rail."}})"),
            std::string::npos)
      << detail.reply->body;
  const Route metrics = route({"GET", "/metrics?token=t0k", "", "localhost"}, guarded);
  ASSERT_EQ(status(metrics), 200U);
  EXPECT_NE(metrics.reply->body.find("shmsnap_topic_region_valid{prefix=\"p\",topic=\"pose\"} 1"), std::string::npos);
  const Route events = route({"GET", "/events?topic=pose", "", "localhost"}, open);
  EXPECT_TRUE(events.event_stream);
  EXPECT_EQ(events.selected_topic, "pose");
}

/// Samples a periodic publisher of `hertz` (first publish at `phase_ns`) every
/// `sample_ns` for `duration_ns`, as the sampler would; returns the rate read after
/// each sample.
std::vector<double> sample_periodic(PublishRate& rate, double hertz, std::int64_t phase_ns, std::int64_t sample_ns,
                                    std::int64_t duration_ns, std::uint64_t epoch = 1) {
  const auto period_ns = static_cast<std::int64_t>(1e9 / hertz);
  std::vector<double> readings;
  for (std::int64_t now = sample_ns; now <= duration_ns; now += sample_ns) {
    if (now < phase_ns) {
      continue;
    }
    const auto published = static_cast<std::uint64_t>((now - phase_ns) / period_ns) + 1;
    rate.observe(epoch, published, phase_ns + static_cast<std::int64_t>(published - 1) * period_ns);
    readings.push_back(rate.hertz(now));
  }
  return readings;
}

TEST(PublishRate, PeriodicTopicsReadTheirRateWhateverTheSamplePeriod) {
  // The old measure (publishes within one 100 ms sample) read a 2 Hz topic as 0 or
  // 10 Hz; from the publisher's own seq and stamps every reading is exact.
  for (const double hertz : {0.1, 0.5, 2.0, 50.0, 1000.0, 10'000.0}) {
    for (const std::int64_t sample_ns : {50'000'000LL, 100'000'000LL, 330'000'000LL}) {
      PublishRate rate;
      const auto period_ns = static_cast<std::int64_t>(1e9 / hertz);
      const std::vector<double> readings = sample_periodic(rate, hertz, 7'000'000, sample_ns, 60'000'000'000);
      std::size_t checked = 0;
      for (std::size_t i = 0; i < readings.size(); ++i) {
        // Exact once two publishes were seen (after the second period).
        if (static_cast<std::int64_t>(i + 1) * sample_ns > 2 * period_ns + 7'000'000 + sample_ns) {
          EXPECT_NEAR(readings[i], hertz, hertz * 1e-3) << hertz << " Hz sampled every " << sample_ns << " ns";
          ++checked;
        }
      }
      EXPECT_GT(checked, 0U) << hertz;
      // Just over the window: by at most one step between observations.
      EXPECT_LE(rate.window_seconds(),
                PublishRate::window_ns / 1e9 + std::max(1 / hertz, static_cast<double>(sample_ns) / 1e9) + 1e-9)
          << hertz;
    }
  }
}

TEST(PublishRate, AStoppedTopicComesDownAndANewEpochStartsOver) {
  PublishRate rate;
  (void)sample_periodic(rate, 50.0, 0, 100'000'000, 5'000'000'000);
  ASSERT_NEAR(rate.hertz(5'000'000'000), 50.0, 0.05);
  // Late by less than the grace (a loaded machine): still its rate.
  EXPECT_NEAR(rate.hertz(5'000'000'000 + 500'000'000), 50.0, 0.05);
  // Nothing for 4 s: at most one publish in those 4 s.
  const double stopped = rate.hertz(5'000'000'000 + 4'000'000'000);
  EXPECT_LE(stopped, 0.26);
  EXPECT_GT(stopped, 0.0);
  // A successor publisher counts from 1 again: no rate until it published twice.
  rate.observe(2, 1, 10'000'000'000);
  EXPECT_EQ(rate.hertz(10'000'000'000), 0.0);
  EXPECT_EQ(rate.window_seconds(), 0.0);
  rate.observe(2, 3, 10'100'000'000);
  EXPECT_NEAR(rate.hertz(10'100'000'000), 20.0, 1e-9);
  // A regressed sequence (a region rewritten under the reader) starts over too.
  rate.observe(2, 2, 10'200'000'000);
  EXPECT_EQ(rate.hertz(10'200'000'000), 0.0);
}

TEST(PublishRate, ABurstyTopicReadsItsAverageOverTheWindow) {
  PublishRate rate;
  // 100 publishes in a burst every second for 20 s: 100 Hz on average.
  std::uint64_t seq = 0;
  double reading = 0;
  for (std::int64_t second = 0; second < 20; ++second) {
    for (int sample = 0; sample < 10; ++sample) {
      const std::int64_t now = second * 1'000'000'000 + sample * 100'000'000 + 50'000'000;
      if (sample == 0) {
        seq += 100;  // the burst took 1 ms, 10 ms ago
      }
      rate.observe(1, seq, second * 1'000'000'000 + 40'000'000);
      reading = rate.hertz(now);
    }
  }
  EXPECT_NEAR(reading, 100.0, 1.0);
}

TEST(FoxgloveProtocol, ParsesSubscribeAndUnsubscribe) {
  const auto subscribe =
      foxglove::parse_client_message(R"({"op":"subscribe","subscriptions":[{"id":4,"channelId":2}]})");
  ASSERT_EQ(subscribe.kind, foxglove::ClientMessage::Kind::subscribe);
  ASSERT_EQ(subscribe.subscriptions.size(), 1U);
  EXPECT_EQ(subscribe.subscriptions[0], std::make_pair(4U, 2U));
  const auto unsubscribe = foxglove::parse_client_message(R"({"op":"unsubscribe","subscriptionIds":[4,5]})");
  ASSERT_EQ(unsubscribe.kind, foxglove::ClientMessage::Kind::unsubscribe);
  EXPECT_EQ(unsubscribe.subscription_ids, (std::vector<std::uint32_t>{4, 5}));
}

TEST(FoxgloveProtocol, RefusesBadMessagesWithAReason) {
  for (const char* text : {"", "[]", "{}", R"({"op":3})", R"({"op":"subscribe"})",
                           R"({"op":"subscribe","subscriptions":[{"id":-1,"channelId":1}]})",
                           R"({"op":"subscribe","subscriptions":[{"id":4294967296,"channelId":1}]})",
                           R"({"op":"unsubscribe","subscriptionIds":["a"]})"}) {
    const auto message = foxglove::parse_client_message(text);
    EXPECT_EQ(message.kind, foxglove::ClientMessage::Kind::invalid) << text;
    EXPECT_FALSE(message.problem.empty());
  }
  EXPECT_EQ(foxglove::parse_client_message(R"({"op":"advertise","channels":[]})").kind,
            foxglove::ClientMessage::Kind::unsupported);
}

TEST(FoxgloveProtocol, MessageDataLayout) {
  const std::string frame = foxglove::message_data(0x01020304, 0x1122334455667788ULL, "{}");
  ASSERT_EQ(frame.size(), 1U + 4 + 8 + 2);
  EXPECT_EQ(frame[0], '\x01');
  EXPECT_EQ(frame.substr(1, 4), std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(frame.substr(5, 8), std::string("\x88\x77\x66\x55\x44\x33\x22\x11", 8));
  EXPECT_EQ(frame.substr(13), "{}");
}

}  // namespace
}  // namespace shmsnap::serve
