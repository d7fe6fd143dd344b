// Wall-clock jumps (iceoryx2 #1000: changing the system time stopped delivery
// there): the real binaries run under libfaketime, whose wall clock the test steps
// by hours forward and back mid-run while CLOCK_MONOTONIC stays true. Delivery,
// stall and loss detection, recording timestamps, `shmsnap serve`'s ages and rates
// and the bridge's staleness must not notice. Each jump is waited for through a
// value stamped with the jumped clock (a pose's stamp, serve's sample time), never
// a sleep.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.hpp"
#include "mcap/reader.hpp"
#include "nats_server.hpp"
#include "shmsnap/subscriber.hpp"

namespace shmsnap::test {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* faketime_library = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
constexpr std::int64_t hour_s = 3600;

/// Seconds since the epoch on the test's own (true) wall clock.
std::int64_t real_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// A wall clock for the processes started under it: libfaketime re-reads the
/// offset in `path` on every call (FAKETIME_NO_CACHE), so rewriting the file steps
/// their CLOCK_REALTIME at once; FAKETIME_DONT_FAKE_MONOTONIC leaves CLOCK_MONOTONIC
/// alone, as a real `date -s` or NTP step would.
class JumpingClock {
 public:
  explicit JumpingClock(std::string path) : path_(std::move(path)) { jump_to(0); }
  ~JumpingClock() { std::remove(path_.c_str()); }
  JumpingClock(const JumpingClock&) = delete;
  JumpingClock& operator=(const JumpingClock&) = delete;

  /// Sets the offset from the true wall clock; written beside and renamed, so a
  /// reader sees the old or the new offset, never half a line.
  void jump_to(std::int64_t offset_seconds) {
    offset_s_ = offset_seconds;
    const std::string staging = path_ + ".new";
    std::ofstream(staging) << (offset_seconds < 0 ? "" : "+") << offset_seconds << "\n";
    std::filesystem::rename(staging, path_);
  }
  [[nodiscard]] std::int64_t offset_seconds() const { return offset_s_; }

  /// argv words that run the next word under this clock (env execs: same pid). In an
  /// ASan build the preloaded libfaketime comes before the ASan runtime, which ASan
  /// refuses unless told that the order is intended.
  [[nodiscard]] std::vector<std::string> prefix_argv() const {
    const char* asan_options = std::getenv("ASAN_OPTIONS");
    return {"/usr/bin/env",
            std::string("LD_PRELOAD=") + faketime_library,
            "FAKETIME_TIMESTAMP_FILE=" + path_,
            "FAKETIME_NO_CACHE=1",
            "FAKETIME_DONT_FAKE_MONOTONIC=1",
            std::string("ASAN_OPTIONS=") + (asan_options != nullptr ? asan_options : "") + ":verify_asan_link_order=0"};
  }

 private:
  std::string path_;
  std::int64_t offset_s_ = 0;
};

/// Whether a wall-clock second `seconds` lies on a clock `offset` from the truth
/// (a minute either way: the test's own reading is a little later).
bool on_clock(std::int64_t seconds, std::int64_t offset) {
  const std::int64_t expected = real_seconds() + offset;
  return seconds > expected - 60 && seconds < expected + 60;
}

class ClockJumpTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (::access(faketime_library, R_OK) != 0) {
      GTEST_SKIP() << "libfaketime is not installed (" << faketime_library
                   << " missing; Debian: apt-get install faketime)";
    }
  }

  void TearDown() override {
    for (auto& child : children_) {
      child->signal(SIGTERM);  // clean shutdowns: regions, queues and libfaketime's own objects go
    }
    for (auto& child : children_) {
      (void)child->wait_exit(patience);
    }
    children_.clear();
    nats_.reset();  // after the bridges, so they stop against a live server
    // libfaketime creates /dev/shm/faketime_shm_<pid> and sem.faketime_sem_<pid> in
    // every process it starts in and removes them at a clean exit; a SIGKILLed
    // child leaves them.
    for (const pid_t pid : timed_pids_) {
      std::filesystem::remove("/dev/shm/faketime_shm_" + std::to_string(pid));
      std::filesystem::remove("/dev/shm/sem.faketime_sem_" + std::to_string(pid));
    }
    CliTest::TearDown();
  }

  /// Starts bin_dir()/`binary` under `clock`, killed if this test process dies.
  ChildProcess& launch_under(const JumpingClock& clock, const std::string& binary, std::vector<std::string> arguments) {
    std::vector<std::string> argv{"/usr/bin/setpriv", "--pdeathsig", "KILL"};
    const std::vector<std::string> faked = clock.prefix_argv();
    argv.insert(argv.end(), faked.begin(), faked.end());
    argv.push_back(bin_dir() + "/" + binary);
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    children_.emplace_back(std::make_unique<ChildProcess>(std::move(argv)));
    timed_pids_.push_back(children_.back()->pid());
    return *children_.back();
  }

  ChildProcess& publisher_under(const JumpingClock& clock, const std::string& topic, const std::string& schema,
                                std::vector<std::string> extra = {}) {
    std::vector<std::string> arguments{"--topic",  topic,   "--schema",    schema,
                                       "--prefix", prefix_, "--log-level", "warn"};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    return launch_under(clock, "shmsnap-publisher", std::move(arguments));
  }

  ChildProcess& daemon_under(const JumpingClock& clock, const std::vector<std::string>& topics, const std::string& id,
                             const std::string& prefix) {
    std::vector<std::string> arguments{"--id", id, "--prefix", prefix, "--json", "--log-level", "warn"};
    for (const std::string& topic : topics) {
      arguments.insert(arguments.end(), {"--topic", topic});
    }
    return launch_under(clock, "shmsnap-subscriber", std::move(arguments));
  }

  [[nodiscard]] std::string clock_file(const std::string& name) const {
    return (std::filesystem::temp_directory_path() / ("shmsnap_clock_" + prefix_ + "_" + name)).string();
  }

  std::vector<pid_t> timed_pids_;
  std::unique_ptr<NatsServer> nats_;
};

/// Reads a daemon's JSON lines, checking every refresh on the way: sequences rise
/// per topic and epoch, a pose's covariance stays a covariance (non-negative
/// variances), a service's uptime stays below a day.
class DaemonReader {
 public:
  explicit DaemonReader(ChildProcess& daemon) : daemon_(daemon) {}

  /// Reads until a line satisfies `wanted` (returned) or `timeout` passes.
  std::optional<Json> until(const std::function<bool(const Json&)>& wanted,
                            std::chrono::milliseconds timeout = patience) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      const std::optional<std::string> text = daemon_.read_line(left);
      if (!text) {
        return std::nullopt;
      }
      const Json line = Json::parse(*text, nullptr, false);
      EXPECT_FALSE(line.is_discarded()) << "not JSON: " << *text;
      if (line.is_discarded()) {
        continue;
      }
      if (is_refresh(line)) {
        check(line);
      }
      if (wanted(line)) {
        return line;
      }
    }
    return std::nullopt;
  }

  /// Reads `count` more refreshes of each of `topics`; false on timeout.
  bool more_refreshes(const std::vector<std::string>& topics, int count) {
    std::map<std::string, int> wanted;
    for (const std::string& topic : topics) {
      wanted[topic] = refreshes_[topic] + count;
    }
    return until([&](const Json&) {
             for (const auto& [topic, total] : wanted) {
               if (refreshes_[topic] < total) {
                 return false;
               }
             }
             return true;
           })
        .has_value();
  }

  [[nodiscard]] int refreshes(const std::string& topic) { return refreshes_[topic]; }

 private:
  void check(const Json& line) {
    const std::string topic = line["topic"];
    ++refreshes_[topic];
    const auto epoch = line["epoch"].get<std::uint64_t>();
    const auto seq = line["seq"].get<std::uint64_t>();
    if (epoch == epoch_[topic]) {
      EXPECT_GT(seq, seq_[topic]) << "sequences rise: " << line;
    }
    epoch_[topic] = epoch;
    seq_[topic] = seq;
    const Json& data = line["data"];
    if (data.contains("covariance")) {
      for (std::size_t axis = 0; axis < 6; ++axis) {
        EXPECT_GE(data["covariance"][axis][axis].get<double>(), 0.0) << "a variance is never negative: " << line;
      }
    }
    if (data.contains("uptime_ns")) {
      EXPECT_LT(data["uptime_ns"].get<std::uint64_t>(), 24 * hour_s * 1'000'000'000ULL)
          << "uptime of a service started seconds ago: " << line;
    }
  }

  ChildProcess& daemon_;
  std::map<std::string, int> refreshes_;
  std::map<std::string, std::uint64_t> epoch_;
  std::map<std::string, std::uint64_t> seq_;
};

/// A pose refresh stamped on a clock `offset` seconds from the truth.
std::function<bool(const Json&)> pose_on_clock(std::int64_t offset) {
  return [offset](const Json& line) {
    return is_refresh(line) && line["topic"] == "pose" &&
           on_clock(line["data"]["stamp"]["sec"].get<std::int64_t>(), offset);
  };
}

std::function<bool(const Json&)> event_of(const std::string& topic, const std::string& event) {
  return [topic, event](const Json& line) { return line.value("event", "") == event && line["topic"] == topic; };
}

// Publishers and the daemon share a clock that jumps +3 h, -3 h and +3 h again:
// refreshes keep coming after every jump, a SIGSTOPped publisher is still seen
// stalled (heartbeat age on CLOCK_MONOTONIC) and resumed after the backward jump,
// and a SIGKILLed one lost at once after the last jump. The feeds' own data stays
// sane: their simulations run on CLOCK_MONOTONIC, so a stepped-back wall clock
// neither wraps a service's uptime nor makes a pose's variance negative.
TEST_F(ClockJumpTest, PublisherAndDaemonKeepDeliveringAndDetectingStallsAndLossesAcrossJumps) {
  JumpingClock clock(clock_file("host"));
  ChildProcess& follower = daemon_under(clock, {"pose", "health"}, "jumper", prefix_);
  ChildProcess& pose = publisher_under(clock, "pose", "robot.pose", {"--rate", "100"});
  ChildProcess& health = publisher_under(clock, "health", "service.health", {"--rate", "100"});
  ASSERT_TRUE(pose.wait_for_line("ready", patience)) << pose.output();
  ASSERT_TRUE(health.wait_for_line("ready", patience)) << health.output();
  DaemonReader reader(follower);
  ASSERT_TRUE(reader.until(pose_on_clock(0))) << follower.output();
  ASSERT_TRUE(reader.more_refreshes({"pose", "health"}, 20)) << follower.output();

  for (const std::int64_t offset : {3 * hour_s, -3 * hour_s}) {
    clock.jump_to(offset);
    ASSERT_TRUE(reader.until(pose_on_clock(offset))) << "jump to " << offset << " s: " << follower.output();
    ASSERT_TRUE(reader.more_refreshes({"pose", "health"}, 50)) << "after the jump to " << offset << " s";
  }

  // Stall detection after the backward jump: the heartbeat stops, then moves again.
  pose.signal(SIGSTOP);
  const auto stopped_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(reader.until(event_of("pose", "publisher_stalled"))) << follower.output();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 15s) << "stall_timeout is 2 s";
  pose.signal(SIGCONT);
  ASSERT_TRUE(reader.until(event_of("pose", "publisher_resumed"))) << follower.output();
  ASSERT_TRUE(reader.more_refreshes({"pose", "health"}, 20));

  // Loss detection after a forward jump.
  clock.jump_to(3 * hour_s);
  ASSERT_TRUE(reader.until(pose_on_clock(3 * hour_s))) << follower.output();
  pose.signal(SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(reader.until(event_of("pose", "publisher_lost"))) << follower.output();
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 10s) << "the publisher's pidfd reports the death";
  ASSERT_TRUE(reader.more_refreshes({"health"}, 20)) << "the other topic carries on";

  health.signal(SIGTERM);
  EXPECT_EQ(health.wait_exit(patience), 0);
  follower.signal(SIGTERM);
  EXPECT_EQ(follower.wait_exit(patience), 0);
  ASSERT_EQ(pose.wait_exit(patience), 128 + SIGKILL);
  EXPECT_EQ(admin({"clean", "--prefix", prefix_}).code, 0) << "the killed publisher's region and queue";
}

// `shmsnap record` and the publishers under a clock that jumps +3 h and then -3 h
// while recording: log and publish times are CLOCK_MONOTONIC plus an offset read
// once at the start (the file's "clock" metadata says so), so they keep rising
// and stay on the clock the recording began with; `shmsnap info` reads the file
// and counts every message the recorder wrote.
TEST_F(ClockJumpTest, RecordingTimesStayMonotonicAndOnTheStartingClockAcrossJumps) {
  JumpingClock clock(clock_file("host"));
  const std::string path = clock_file("jumps.mcap");
  const std::int64_t started_s = real_seconds();
  ChildProcess& recorder =
      launch_under(clock, "shmsnap",
                   {"record", "-o", path, "--prefix", prefix_, "--compression", "none", "--encoding", "json", "pose"});
  ChildProcess& pose =
      publisher_under(clock, "pose", "robot.pose", {"--rate", "100", "--count", "400", "--wait-subscribers", "1"});
  ASSERT_TRUE(pose.wait_for_line("ready", patience)) << pose.output();
  // Stats lines come once a second of publishing: jump after the first and the second.
  ASSERT_TRUE(pose.wait_for_line("stats", patience)) << pose.output();
  clock.jump_to(3 * hour_s);
  ASSERT_TRUE(pose.wait_for_line("stats", patience)) << pose.output();
  clock.jump_to(-3 * hour_s);
  ASSERT_TRUE(pose.wait_for_line("done published=400", patience)) << pose.output();
  EXPECT_EQ(pose.wait_exit(patience), 0);
  recorder.signal(SIGINT);
  ASSERT_EQ(recorder.wait_exit(patience), 0) << recorder.output();
  const std::int64_t stopped_s = real_seconds();
  long long recorded = -1;
  for (std::istringstream lines(recorder.output()); !lines.eof();) {
    std::string line;
    std::getline(lines, line);
    if (line.rfind("recorded ", 0) == 0) {
      recorded = field(line, "messages").value_or(-1);
    }
  }
  ASSERT_GT(recorded, 0) << recorder.output();

  const mcap::MappedFile file(path);
  std::uint64_t last_log_time = 0;
  std::uint64_t last_publish_time = 0;
  std::int64_t pose_stamps_ahead = 0;
  std::int64_t pose_stamps_behind = 0;
  long long scanned = 0;
  const mcap::ScanResult result =
      mcap::scan(file.bytes(), path, [&](const mcap::Schema*, const mcap::Channel&, const mcap::Message& message) {
        ++scanned;
        EXPECT_GE(message.log_time, last_log_time) << "message " << scanned;
        EXPECT_GE(message.publish_time, last_publish_time) << "message " << scanned;
        last_log_time = message.log_time;
        last_publish_time = message.publish_time;
        const auto log_s = static_cast<std::int64_t>(message.log_time / 1'000'000'000);
        EXPECT_GE(log_s, started_s - 60) << "message " << scanned << " is on the starting clock";
        EXPECT_LE(log_s, stopped_s + 60) << "message " << scanned << " is on the starting clock";
        const Json data = Json::parse(message.data);
        const std::int64_t stamp = data["stamp"]["sec"];
        pose_stamps_ahead += stamp > log_s + hour_s ? 1 : 0;
        pose_stamps_behind += stamp < log_s - hour_s ? 1 : 0;
        return true;
      });
  EXPECT_TRUE(result.complete) << result.truncation;
  EXPECT_EQ(scanned, recorded);
  EXPECT_GT(pose_stamps_ahead, 0) << "the clock jumped forward while recording";
  EXPECT_GT(pose_stamps_behind, 0) << "the clock jumped back while recording";

  const CliResult info = admin({"info", path, "--json"});
  ASSERT_EQ(info.code, 0) << info.err;
  const Json described = Json::parse(info.out);
  EXPECT_EQ(described["messages"].get<long long>(), recorded);
  EXPECT_TRUE(described["complete"].get<bool>());
  EXPECT_GE(described["duration_s"].get<double>(), 0.0);
  EXPECT_LT(described["duration_s"].get<double>(), 600.0) << "no hours from the jumps";
  std::filesystem::remove(path);
}

/// The body of `shmsnap serve`'s /api/topics, parsed (discarded on any failure).
Json api_topics(int port) {
  const int descriptor = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{10, 0};
  ::setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  const std::string request = "GET /api/topics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::connect(descriptor, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
      ::send(descriptor, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    for (ssize_t got = 0; (got = ::recv(descriptor, buffer, sizeof buffer, 0)) > 0;) {
      response.append(buffer, static_cast<std::size_t>(got));
    }
  }
  ::close(descriptor);
  const std::size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? Json(Json::value_t::discarded)
                                   : Json::parse(response.substr(body + 4), nullptr, false);
}

// `shmsnap serve` (and the publisher) under a clock that jumps +3 h and -3 h: once
// serve's samples carry the jumped time, /api/topics still shows small
// non-negative ages and a rate near the publisher's 100 Hz. (Samples 500 ms apart:
// the published counter serve reads is mirrored every 100 ms heartbeat.)
TEST_F(ClockJumpTest, ServeShowsNonNegativeAgesAndASaneRateAfterJumps) {
  JumpingClock clock(clock_file("host"));
  ChildProcess& pose = publisher_under(clock, "pose", "robot.pose", {"--rate", "100"});
  ASSERT_TRUE(pose.wait_for_line("ready", patience)) << pose.output();
  ChildProcess& serve =
      launch_under(clock, "shmsnap", {"serve", "--listen", "127.0.0.1:0", "--prefix", prefix_, "--sample-ms", "500"});
  const auto serving = serve.wait_for_line("serving", patience);
  ASSERT_TRUE(serving) << serve.output();
  const std::size_t at = serving->find("http=");
  ASSERT_NE(at, std::string::npos) << *serving;
  const std::string http = serving->substr(at, serving->find(' ', at) - at);
  const int port = std::stoi(http.substr(http.rfind(':') + 1));

  for (const std::int64_t offset : {std::int64_t{0}, 3 * hour_s, -3 * hour_s}) {
    clock.jump_to(offset);
    // Serve's sample time shows the jump; three samples later the rate spans only
    // samples taken after it.
    std::int64_t first_sample = -1;
    Json topics;
    ASSERT_TRUE(eventually(
        [&] {
          topics = api_topics(port);
          if (!topics.is_object() || topics["topics"].size() != 1 ||
              !on_clock(topics["sampled_realtime_ns"].get<std::int64_t>() / 1'000'000'000, offset)) {
            return false;
          }
          if (first_sample < 0) {
            first_sample = topics["sample"].get<std::int64_t>();
          }
          return topics["sample"].get<std::int64_t>() >= first_sample + 3;
        },
        patience))
        << "offset " << offset << ": " << topics;
    const Json& topic = topics["topics"][0];
    EXPECT_TRUE(topic["publisher_up"].get<bool>()) << topic;
    EXPECT_FALSE(topic["stale"].get<bool>()) << topic;
    EXPECT_GE(topic["snapshot_age_seconds"].get<double>(), 0.0) << topic;
    EXPECT_LT(topic["snapshot_age_seconds"].get<double>(), 5.0) << topic;
    EXPECT_GE(topic["heartbeat_age_seconds"].get<double>(), 0.0) << topic;
    EXPECT_LT(topic["heartbeat_age_seconds"].get<double>(), 5.0) << topic;
    EXPECT_GT(topic["publish_rate_hz"].get<double>(), 20.0) << topic;
    EXPECT_LT(topic["publish_rate_hz"].get<double>(), 500.0) << topic;
  }
}

// The bridge: the exporter (with the publisher) and the importer on two clocks
// that jump apart by hours. Values keep arriving through a real nats-server and
// the imported topic is not judged stale for the skew; once the exporter is
// killed it is judged stale all the same.
TEST_F(ClockJumpTest, BridgeKeepsImportedTopicFreshAcrossJumpsAndStaleWhenTheExporterDies) {
#ifndef SHMSNAP_CLOCK_JUMP_BRIDGE
  GTEST_SKIP() << "shmsnap-bridge is not built (nats.c missing)";
#else
  if (nats_server_path().empty()) {
    GTEST_SKIP() << "nats-server is not installed (Debian: apt-get install nats-server)";
  }
  nats_ = std::make_unique<NatsServer>(NatsServer::Options{});
  nats_->start();
  const std::string url = nats_->url();
  const std::string remote = prefix_ + "b";
  JumpingClock origin_clock(clock_file("origin"));
  JumpingClock remote_clock(clock_file("remote"));
  ChildProcess& pose = publisher_under(origin_clock, "pose", "robot.pose", {"--rate", "50"});
  ASSERT_TRUE(pose.wait_for_line("ready", patience)) << pose.output();
  ChildProcess& exporting = launch_under(origin_clock, "shmsnap-bridge",
                                         {"export", "--nats", url, "--log-level", "warn", "--prefix", prefix_,
                                          "--topic", "pose", "--key", "site.pose", "--heartbeat-ms", "200"});
  ASSERT_TRUE(exporting.wait_for_line("ready", patience)) << exporting.output();
  ChildProcess& importing = launch_under(
      remote_clock, "shmsnap-bridge",
      {"import", "--nats", url, "--log-level", "warn", "--prefix", remote, "--key", "site.pose", "--as", "pose"});
  ASSERT_TRUE(importing.wait_for_line("ready", patience)) << importing.output();
  ChildProcess& follower = daemon_under(remote_clock, {"pose"}, "remote", remote);
  DaemonReader reader(follower);
  const auto fresh_pose_on = [](std::int64_t offset) {
    return [offset](const Json& line) { return pose_on_clock(offset)(line) && !line["stale"].get<bool>(); };
  };
  ASSERT_TRUE(reader.until(fresh_pose_on(0))) << follower.output();

  // Origin 3 h behind the importer, then 3 h ahead, then both 3 h back.
  for (const auto& [origin_offset, remote_offset] : std::vector<std::pair<std::int64_t, std::int64_t> >{
           {-3 * hour_s, 0}, {3 * hour_s, 0}, {-3 * hour_s, -3 * hour_s}}) {
    origin_clock.jump_to(origin_offset);
    remote_clock.jump_to(remote_offset);
    ASSERT_TRUE(reader.until(pose_on_clock(origin_offset))) << follower.output();
    for (int refresh = 0; refresh < 20; ++refresh) {
      const auto line = reader.until(is_refresh);
      ASSERT_TRUE(line) << follower.output();
      EXPECT_FALSE((*line)["stale"].get<bool>())
          << "origin at " << origin_offset << " s, importer at " << remote_offset << " s: " << *line;
    }
  }

  // The exporter dies with the importer's clock 3 h ahead of the true one (a
  // timeout taken on the wall clock would now wait hours): its heartbeats stop, and
  // the imported topic goes stale all the same.
  origin_clock.jump_to(-3 * hour_s);
  remote_clock.jump_to(3 * hour_s);
  ASSERT_TRUE(reader.until(pose_on_clock(-3 * hour_s))) << follower.output();
  std::optional<UntypedSubscriber> watcher;
  watcher.emplace("pose", nullptr, SubscriberOptions{.prefix = remote});
  ASSERT_TRUE(reader.more_refreshes({"pose"}, 20));
  watcher->poll();
  EXPECT_FALSE(watcher->stale());
  exporting.signal(SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually(
      [&] {
        watcher->poll();
        return watcher->stale();
      },
      patience))
      << "the importer never judged the dead exporter's topic stale";
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 15s) << "3 heartbeats of 200 ms";
  ASSERT_EQ(exporting.wait_exit(patience), 128 + SIGKILL);
  watcher.reset();  // says BYE and removes its queue before the leftover check
  for (ChildProcess* child : {&follower, &importing, &pose}) {
    child->signal(SIGTERM);
    EXPECT_EQ(child->wait_exit(patience), 0) << child->output();
  }
  // The killed exporter's notify queue is the operator's to clean.
  EXPECT_EQ(admin({"clean", "--prefix", prefix_}).code, 0);
  const std::vector<std::string> left = remove_leftovers(remote);
  EXPECT_TRUE(left.empty()) << "left behind: " << ::testing::PrintToString(left);
#endif
}

}  // namespace
}  // namespace shmsnap::test
