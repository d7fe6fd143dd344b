// shmsnap-publisher and shmsnap-subscriber as real processes: JSON refreshes,
// several topics in one daemon, a publisher SIGKILLed and restarted under a
// running daemon, waiting and timing out, and the usage errors of both binaries.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <map>
#include <string>

#include "cli_test_support.hpp"
#include "daemon.hpp"

namespace shmsnap::test {
namespace {

using nlohmann::json;

class CliDaemon : public CliTest {};

TEST_F(CliDaemon, JsonSubscribersSeeStrictlyIncreasingSequencesOfDecodedQuoteBooks) {
  ChildProcess& feed = publisher("quotes", "market.quote_book", {"--rate", "200"});
  ASSERT_TRUE(feed.wait_for_line("ready topic=quotes", patience)) << feed.output();
  std::vector<ChildProcess*> daemons;
  for (const std::string id : {"a", "b"}) {
    daemons.push_back(&daemon({"quotes"}, id, {"--count", "40"}));
  }
  for (ChildProcess* follower : daemons) {
    std::uint64_t last_seq = 0;
    std::uint64_t last_exchange_seq = 0;
    int refreshes = 0;
    while (refreshes < 40) {
      const auto line = next_json(*follower, is_refresh);
      ASSERT_TRUE(line) << follower->output();
      EXPECT_EQ((*line)["topic"], "quotes");
      EXPECT_EQ((*line)["epoch"], 1);
      const auto seq = (*line)["seq"].get<std::uint64_t>();
      EXPECT_GT(seq, last_seq) << "sequences strictly increase";
      last_seq = seq;
      EXPECT_TRUE((*line)["latency_ns"].is_number_integer());
      EXPECT_TRUE((*line)["skipped"].is_number_unsigned());
      EXPECT_EQ((*line)["stale"], false);
      const json& book = (*line)["data"];
      EXPECT_EQ(book["symbol"], "QUOTES");
      ASSERT_EQ(book["bid_price"].size(), 10U);
      ASSERT_EQ(book["ask_size"].size(), 10U);
      EXPECT_LT(book["bid_price"][0].get<double>(), book["ask_price"][0].get<double>()) << "the book is not crossed";
      EXPECT_GT(book["sequence"].get<std::uint64_t>(), last_exchange_seq);
      last_exchange_seq = book["sequence"].get<std::uint64_t>();
      ++refreshes;
    }
    EXPECT_EQ(follower->wait_exit(patience), 0) << follower->output();
  }
  feed.signal(SIGTERM);
  EXPECT_EQ(feed.wait_exit(patience), 0);
  EXPECT_NE(feed.output().find("done published="), std::string::npos) << feed.output();
}

TEST_F(CliDaemon, WaitSubscribersHoldsTheFirstPublishUntilASubscriberAttached) {
  // Two publishes 10 ms apart, then the topic shuts down: without the hold it would
  // be over before a daemon started after "ready" could attach.
  ChildProcess& feed = publisher("held", "robot.pose", {"--rate", "100", "--count", "2", "--wait-subscribers", "1"});
  ASSERT_TRUE(feed.wait_for_line("ready topic=held", patience)) << feed.output();
  const CliResult before = admin({"list", "--prefix", prefix_, "--json"});
  ASSERT_EQ(before.code, 0) << before.err;
  const json listed = json::parse(before.out);
  ASSERT_EQ(listed.size(), 1U) << before.out;
  EXPECT_EQ(listed[0]["seq"], 0) << "nothing is published while nobody listens: " << before.out;

  ChildProcess& follower = daemon({"held"}, "late", {"--count", "1"});
  const auto line = next_json(follower, is_refresh);
  ASSERT_TRUE(line) << follower.output() << feed.output();
  EXPECT_LE((*line)["seq"].get<std::uint64_t>(), 2U);
  EXPECT_EQ(follower.wait_exit(patience), 0) << follower.output();
  ASSERT_TRUE(feed.wait_for_line("done published=2", patience)) << feed.output();
  EXPECT_EQ(feed.wait_exit(patience), 0);
  const std::string output = feed.output();
  ASSERT_NE(output.find("subscribers=1 attached"), std::string::npos) << output;
  EXPECT_LT(output.find("subscribers=1 attached"), output.find("done published=2")) << output;
}

TEST_F(CliDaemon, OneDaemonFollowsSeveralTopicsOfDifferentSchemas) {
  ChildProcess& pose = publisher("pose", "robot.pose", {"--rate", "100"});
  ChildProcess& health = publisher("health", "service.health", {"--rate", "100"});
  ASSERT_TRUE(pose.wait_for_line("ready", patience));
  ASSERT_TRUE(health.wait_for_line("ready", patience));
  ChildProcess& follower = daemon({"pose", "health"}, "multi", {"--count", "5"});
  std::map<std::string, int> seen;
  while (seen["pose"] < 5 || seen["health"] < 5) {
    const auto line = next_json(follower, is_refresh);
    ASSERT_TRUE(line) << follower.output();
    const std::string topic = (*line)["topic"];
    ++seen[topic];
    if (topic == "pose") {
      EXPECT_EQ((*line)["data"]["frame_id"], "pose");
      EXPECT_TRUE((*line)["data"]["position"].contains("x"));
      EXPECT_EQ((*line)["data"]["covariance"].size(), 6U);
    } else {
      ASSERT_EQ(topic, "health");
      const std::string status = (*line)["data"]["status"];
      EXPECT_TRUE(status == "starting" || status == "ok" || status == "degraded") << status;
    }
  }
  EXPECT_EQ(follower.wait_exit(patience), 0) << follower.output();
  for (ChildProcess* feed : {&pose, &health}) {
    feed->signal(SIGINT);
    EXPECT_EQ(feed->wait_exit(patience), 0);
  }
}

TEST_F(CliDaemon, DaemonReportsAPublisherKilledAndRestartedAndKeepsGoing) {
  ChildProcess& follower = daemon({"pose"}, "survivor");
  ChildProcess& first = publisher("pose", "robot.pose", {"--rate", "100"});
  ASSERT_TRUE(first.wait_for_line("ready topic=pose schema=robot.pose epoch=1", patience)) << first.output();
  ASSERT_TRUE(next_json(follower, is_event("attached"))) << follower.output();
  ASSERT_TRUE(next_json(follower, [](const json& line) { return is_refresh(line) && line["epoch"] == 1; }));

  first.signal(SIGKILL);
  ASSERT_EQ(first.wait_exit(patience), 128 + SIGKILL);
  const auto lost = next_json(follower, is_event("publisher_lost"));
  ASSERT_TRUE(lost) << follower.output();
  EXPECT_EQ((*lost)["epoch"], 1);

  ChildProcess& second = publisher("pose", "robot.pose", {"--rate", "100"});
  ASSERT_TRUE(second.wait_for_line("ready topic=pose schema=robot.pose epoch=2", patience)) << second.output();
  const auto back = next_json(follower, is_event("reattached"));
  ASSERT_TRUE(back) << follower.output();
  EXPECT_EQ((*back)["epoch"], 2);
  EXPECT_EQ((*back)["publisher_pid"], second.pid());
  std::uint64_t last_seq = 0;
  for (int refresh = 0; refresh < 10; ++refresh) {
    const auto line = next_json(follower, is_refresh);
    ASSERT_TRUE(line) << follower.output();
    EXPECT_EQ((*line)["epoch"], 2);
    EXPECT_GT((*line)["seq"].get<std::uint64_t>(), last_seq);
    last_seq = (*line)["seq"];
  }
  follower.signal(SIGTERM);
  EXPECT_EQ(follower.wait_exit(patience), 0);
  second.signal(SIGTERM);
  EXPECT_EQ(second.wait_exit(patience), 0);
}

TEST_F(CliDaemon, DaemonWaitsForALatePublisherAndPrintsTheSummary) {
  ChildProcess& follower =
      launch("shmsnap-subscriber",
             {"--topic", "late", "--id", "early", "--prefix", prefix_, "--count", "5", "--log-level", "warn"}, true);
  ChildProcess& feed = publisher("late", "service.health", {"--rate", "100"});
  ASSERT_TRUE(feed.wait_for_line("ready", patience));
  const auto summary = follower.wait_for_line("topic late id early: ", patience);
  ASSERT_TRUE(summary) << follower.output();
  EXPECT_NE(summary->find("updates, latency p50 "), std::string::npos) << *summary;
  EXPECT_NE(summary->find(" us, p99 "), std::string::npos) << *summary;
  EXPECT_NE(summary->find(", skipped "), std::string::npos) << *summary;
  EXPECT_EQ(follower.wait_exit(patience), 0) << follower.output();
  feed.signal(SIGTERM);
  EXPECT_EQ(feed.wait_exit(patience), 0);
}

TEST_F(CliDaemon, DaemonWithoutAPublisherTimesOutWithAMessage) {
  ChildProcess& follower =
      launch("shmsnap-subscriber", {"--topic", "nobody", "--id", "x", "--prefix", prefix_, "--timeout", "0.3"}, true);
  EXPECT_EQ(follower.wait_exit(patience), 4);
  EXPECT_NE(follower.output().find("no publisher for topic 'nobody' appeared within 0.3 s"), std::string::npos)
      << follower.output();
}

TEST_F(CliDaemon, SecondPublisherOnALiveTopicIsRefusedNamingThePid) {
  ChildProcess& holder = publisher("taken", "robot.pose", {"--rate", "10"});
  const auto ready = holder.wait_for_line("ready", patience);
  ASSERT_TRUE(ready);
  ChildProcess& intruder =
      launch("shmsnap-publisher", {"--topic", "taken", "--schema", "robot.pose", "--prefix", prefix_}, true);
  EXPECT_EQ(intruder.wait_exit(patience), 3);
  EXPECT_NE(intruder.output().find("pid " + std::to_string(holder.pid())), std::string::npos) << intruder.output();
  holder.signal(SIGINT);
  EXPECT_EQ(holder.wait_exit(patience), 0);
}

TEST_F(CliDaemon, PublisherWithCountShutsTheTopicDownAndExitsZero) {
  ChildProcess& feed = publisher("brief", "market.quote_book", {"--rate", "0", "--count", "25"});
  EXPECT_EQ(feed.wait_exit(patience), 0);
  const auto done = feed.wait_for_line("done", patience);
  EXPECT_NE(feed.output().find("done published=25 seq=25 epoch=1"), std::string::npos) << feed.output();
}

// systemd's side of sd_notify: a datagram socket named by $NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    descriptor_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    ::unlink(path_.c_str());
    bound_ = descriptor_ >= 0 && ::bind(descriptor_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }
  ~NotifySocket() {
    ::close(descriptor_);
    ::unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  [[nodiscard]] bool bound() const noexcept { return bound_; }
  /// The next datagram, or "" after `timeout`.
  std::string receive(std::chrono::milliseconds timeout) {
    pollfd entry{descriptor_, POLLIN, 0};
    if (::poll(&entry, 1, static_cast<int>(timeout.count())) != 1) {
      return {};
    }
    char buffer[512];
    const ssize_t got = ::recv(descriptor_, buffer, sizeof buffer, 0);
    return got > 0 ? std::string(buffer, static_cast<std::size_t>(got)) : std::string();
  }

 private:
  std::string path_;
  int descriptor_ = -1;
  bool bound_ = false;
};

TEST_F(CliDaemon, DaemonTellsSystemdItIsReadyOnceAttachedAndStoppingAtExit) {
  if (!app::systemd_notify_built_in()) {
    GTEST_SKIP() << "built without libsystemd: no sd_notify";
  }
  NotifySocket systemd("/tmp/" + prefix_ + ".notify");
  ASSERT_TRUE(systemd.bound());
  ChildProcess& feed = publisher("unit", "service.health", {"--rate", "20"});
  ASSERT_TRUE(feed.wait_for_line("ready", patience));
  ::setenv("NOTIFY_SOCKET", ("/tmp/" + prefix_ + ".notify").c_str(), 1);
  ChildProcess& follower = daemon({"unit"}, "unit-daemon");
  ::unsetenv("NOTIFY_SOCKET");
  const std::string ready = systemd.receive(patience);
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready;
  ASSERT_TRUE(next_json(follower, is_event("attached")));
  follower.signal(SIGTERM);
  EXPECT_NE(systemd.receive(patience).find("STOPPING=1"), std::string::npos);
  EXPECT_EQ(follower.wait_exit(patience), 0);
  feed.signal(SIGTERM);
  EXPECT_EQ(feed.wait_exit(patience), 0);
}

struct BadUsage {
  std::string binary;
  std::vector<std::string> arguments;
  std::string message;  // part of what stderr must say
};

TEST_F(CliDaemon, EveryBinaryRejectsBadFlagsAndNamesWithAMessage) {
  const std::vector<BadUsage> cases{
      {"shmsnap-publisher", {"--topic", "t", "--schema", "robot.pose", "--bogus"}, "--bogus"},
      {"shmsnap-publisher", {"--schema", "robot.pose"}, "--topic is required"},
      {"shmsnap-publisher", {"--topic", "t", "--schema", "no.such"}, "no.such not in"},
      {"shmsnap-publisher", {"--topic", "bad/name", "--schema", "robot.pose"}, "invalid topic 'bad/name'"},
      {"shmsnap-publisher", {"--topic", "t", "--schema", "robot.pose", "--mode", "0999"}, "octal"},
      {"shmsnap-publisher", {"--topic", "t", "--schema", "robot.pose", "--rate", "-1"}, "--rate"},
      {"shmsnap-publisher", {"--topic", "t", "--schema", "robot.pose", "--count", "2", "--duration", "1"}, "excludes"},
      {"shmsnap-subscriber", {"--topic", "t"}, "--id is required"},
      {"shmsnap-subscriber", {"--topic", "t", "--id", "x", "--mode", "sometimes"}, "sometimes not in"},
      {"shmsnap-subscriber", {"--topic", "t", "--id", "bad id"}, "invalid subscriber id 'bad id'"},
      {"shmsnap-subscriber", {"--topic", "..", "--id", "x"}, "invalid topic '..'"},
      {"shmsnap-subscriber", {"--topic", "t", "--id", "x", "--log-level", "loud"}, "unknown log level"},
      {"shmsnap", {}, "A subcommand is required"},
      {"shmsnap", {"frobnicate"}, "frobnicate"},
      {"shmsnap", {"dump", "no/such"}, "invalid topic 'no/such'"},
      {"shmsnap", {"list", "--prefix", "bad prefix"}, "invalid prefix"},
      {"shmsnap", {"mq", "send", "noslash", "text"}, "must start with '/'"},
      {"shmsnap", {"mq", "unlink", "a/b"}, "must start with '/'"},
      {"shmsnap", {"shm", "stat", "noslash"}, "must start with '/'"},
      {"shmsnap", {"mq", "send", "/q", "text", "--prio", "40000"}, "--prio"},
  };
  for (const BadUsage& usage : cases) {
    std::vector<std::string> arguments = usage.arguments;
    if (usage.binary != "shmsnap" || (!arguments.empty() && (arguments[0] == "dump"))) {
      arguments.insert(arguments.end(), {"--prefix", prefix_});
    }
    ChildProcess& child = launch(usage.binary, arguments, true);
    EXPECT_EQ(child.wait_exit(patience), 2) << usage.binary << " " << ::testing::PrintToString(usage.arguments) << "\n"
                                            << child.output();
    EXPECT_NE(child.output().find(usage.message), std::string::npos)
        << usage.binary << " " << ::testing::PrintToString(usage.arguments) << " should say '" << usage.message
        << "':\n"
        << child.output();
  }
  for (const std::string binary : {"shmsnap-publisher", "shmsnap-subscriber", "shmsnap"}) {
    ChildProcess& help = launch(binary, {"--help"});
    EXPECT_EQ(help.wait_exit(patience), 0);
    EXPECT_NE(help.output().find("Exit codes: 0 ok"), std::string::npos) << help.output();
  }
}

}  // namespace
}  // namespace shmsnap::test
