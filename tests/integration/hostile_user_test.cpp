// What a hostile local user can do with names in /dev/shm: create a topic's region
// before its publisher (a squatter), or plant a FIFO, a symbolic link or a
// directory under the name. Subscribers and tools refuse each with an error that
// says what is there and what to do; nothing blocks, nothing is followed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "shmsnap/clock.hpp"
#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/detail/region_layout.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/subscriber.hpp"
#include "support/fixture.hpp"
#include "support/other_users.hpp"
#include "support/region_tamper.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {
namespace {

namespace fs = std::filesystem;

class HostileUser : public ProcessTest {
 protected:
  ChildProcess& launch(std::vector<std::string> argv) {
    children_.emplace_back(std::make_unique<ChildProcess>(std::move(argv)));
    return *children_.back();
  }
  /// The real shmsnap-publisher, run as `nobody`, publishing `topic` until stopped.
  ChildProcess& squat(const std::string& topic) {
    ChildProcess& squatter =
        launch(as_user(other_user, other_group, {},
                       {bin_dir() + "/shmsnap-publisher", "--topic", topic, "--schema", "robot.pose", "--prefix",
                        prefix_, "--rate", "200", "--log-level", "warn"}));
    EXPECT_TRUE(squatter.wait_for_line("ready", patience)) << squatter.output();
    return squatter;
  }
  /// Runs a program to its end and returns its exit code and merged output.
  std::pair<int, std::string> run(std::vector<std::string> argv) {
    const std::string output_path = "/tmp/" + prefix_ + ".out";
    std::string command;
    for (const std::string& part : argv) {
      command += "'" + part + "' ";
    }
    command += "> " + output_path + " 2>&1";
    ChildProcess shell({"/bin/sh", "-c", command});
    const auto code = shell.wait_exit(patience);
    std::ifstream in(output_path);
    std::stringstream text;
    text << in.rdbuf();
    fs::remove(output_path);
    return {code.value_or(-1), text.str()};
  }
  /// Runs `argv` with its stderr merged into the stdout the test reads; `exec`
  /// keeps the pid, so a signal reaches the program itself.
  static std::vector<std::string> merged(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1"});
    return argv;
  }
  /// Reads `child`'s lines (kept in its output()) until one contains `needle`;
  /// false at EOF or after `timeout`.
  static bool read_until(ChildProcess& child, const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      const std::optional<std::string> line = child.read_line(std::max(left, std::chrono::milliseconds(1)));
      if (!line) {
        return false;
      }
      if (line->find(needle) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  /// Lines of `text` that contain `needle`.
  static std::size_t count_lines(const std::string& text, const std::string& needle) {
    std::size_t count = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      count += line.find(needle) != std::string::npos ? 1 : 0;
    }
    return count;
  }
  std::string path(const std::string& topic) const { return "/dev/shm/" + prefix_ + ":" + topic; }
  void TearDown() override {
    // Planted non-files are not region files: remove them for the leak check.
    for (const char* topic : {"fifo", "link", "directory"}) {
      std::error_code ignored;
      fs::remove(path(topic), ignored);
    }
    ProcessTest::TearDown();
  }
};

TEST_F(HostileUser, ASquattersRegionIsRefusedNamingItsOwnerAndTheOption) {
  if (!running_as_root()) {
    GTEST_SKIP() << "needs root to run the squatter as another user";
  }
  ChildProcess& squatter = squat("squatted");
  try {
    auto subscriber = Subscriber<TestSnapshot>::open("squatted", {.prefix = prefix_});
    FAIL() << "attached to a region created by another user";
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::permission_denied) << failure.what();
    EXPECT_NE(std::string(failure.what()).find("owned by user 'nobody'"), std::string::npos) << failure.what();
    EXPECT_NE(std::string(failure.what()).find("--trust-owner nobody"), std::string::npos) << failure.what();
  }
  // Every tool refuses it too, with the same explanation.
  const auto [dump_code, dump_text] = run({bin_dir() + "/shmsnap", "dump", "squatted", "--prefix", prefix_});
  EXPECT_NE(dump_code, 0);
  EXPECT_NE(dump_text.find("owned by user 'nobody'"), std::string::npos) << dump_text;
  const auto [daemon_code, daemon_text] = run({bin_dir() + "/shmsnap-subscriber", "--topic", "squatted", "--prefix",
                                               prefix_, "--id", "victim", "--timeout", "1", "--count", "1"});
  EXPECT_NE(daemon_code, 0);
  EXPECT_NE(daemon_text.find("owned by user 'nobody'"), std::string::npos) << daemon_text;
  // The real publisher is told who holds its topic.
  try {
    auto publisher = Publisher<TestSnapshot>::create("squatted", {.prefix = prefix_});
    FAIL() << "took over a live squatter's region";
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::busy);
    EXPECT_NE(std::string(failure.what()).find("user 'nobody'"), std::string::npos) << failure.what();
  }
  squatter.signal(SIGTERM);
  EXPECT_EQ(squatter.wait_exit(patience), 0);
}

TEST_F(HostileUser, ATrustedOwnersPublisherIsFollowed) {
  if (!running_as_root()) {
    GTEST_SKIP() << "needs root to run the publisher as another user";
  }
  ChildProcess& publisher = squat("shared");
  const auto [code, text] = run({bin_dir() + "/shmsnap-subscriber", "--topic", "shared", "--prefix", prefix_, "--id",
                                 "friend", "--timeout", "30", "--count", "3", "--trust-owner", "nobody", "--json"});
  EXPECT_EQ(code, 0) << text;
  EXPECT_NE(text.find("\"seq\""), std::string::npos) << text;
  const auto [list_code, list_text] =
      run({bin_dir() + "/shmsnap", "dump", "shared", "--prefix", prefix_, "--trust-owner", std::to_string(other_user)});
  EXPECT_EQ(list_code, 0) << list_text;
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(HostileUser, ASquattedQueueNameEndsTheSubscriberByItsTimeoutOrSigtermNamingTheSquatter) {
  if (!running_as_root()) {
    GTEST_SKIP() << "needs root to run the subscriber and the squatter as other users";
  }
  // The publisher and its subscriber run as one ordinary user; `nobody` took the
  // subscriber's queue name first, and the sticky /dev/mqueue keeps it there.
  ChildProcess& publisher = launch(as_user(publisher_user, publisher_user, {},
                                           {bin_dir() + "/shmsnap-publisher", "--topic", "queued", "--schema",
                                            "robot.pose", "--prefix", prefix_, "--rate", "50", "--log-level", "warn"}));
  ASSERT_TRUE(publisher.wait_for_line("ready", patience)) << publisher.output();
  const std::string queue = "/" + prefix_ + ":queued:sub:victim";
  MessageQueue squat = MessageQueue::create(queue, {.max_messages = 1, .message_size = 64, .mode = 0600});
  ASSERT_EQ(fchown(squat.native_handle(), other_user, other_group), 0);
  const auto subscriber = [&](const std::string& timeout) -> ChildProcess& {
    return launch(merged(as_user(publisher_user, publisher_user, {},
                                 {bin_dir() + "/shmsnap-subscriber", "--topic", "queued", "--prefix", prefix_, "--id",
                                  "victim", "--timeout", timeout})));
  };
  // --timeout wins (before: 95 % CPU and thousands of lines a second, for ever).
  const auto started = std::chrono::steady_clock::now();
  ChildProcess& bounded = subscriber("2");
  const std::optional<int> code = bounded.wait_exit(std::chrono::seconds(20));
  EXPECT_EQ(code, 4) << bounded.output().substr(0, 2000);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_NE(bounded.output().find("owned by user 'nobody' (uid 65534)"), std::string::npos)
      << bounded.output().substr(0, 2000);
  EXPECT_NE(bounded.output().find("shmsnap mq unlink " + queue), std::string::npos) << bounded.output().substr(0, 2000);
  EXPECT_LT(count_lines(bounded.output(), queue), 5U) << "the squatter is named once, not in a loop";
  // So does SIGTERM, while it waits.
  ChildProcess& waiting = subscriber("60");
  ASSERT_TRUE(read_until(waiting, "owned by user 'nobody'", std::chrono::seconds(20))) << waiting.output();
  const auto signalled = std::chrono::steady_clock::now();
  waiting.signal(SIGTERM);
  EXPECT_TRUE(waiting.wait_exit(std::chrono::seconds(10)).has_value()) << "SIGTERM was ignored";
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(3));
  squat.close();
  MessageQueue::unlink(queue);
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(HostileUser, TakingOverASquattersRegionNeitherAdoptsItsEpochNorStopsAWaitingSubscriber) {
  if (!running_as_root()) {
    GTEST_SKIP() << "needs root to run the squatter as another user";
  }
  ChildProcess& squatter = squat("taken");
  squatter.signal(SIGKILL);  // its region stays, unlocked, with the epoch it chose
  ASSERT_TRUE(squatter.wait_exit(patience).has_value());
  {
    RegionTamper tamper("/" + prefix_ + ":taken");
    tamper.header().epoch = std::numeric_limits<std::uint64_t>::max();
  }
  // A root daemon waits for the real publisher, saying who is in the way
  // (before: it exited at once).
  ChildProcess& daemon = launch(merged({bin_dir() + "/shmsnap-subscriber", "--topic", "taken", "--prefix", prefix_,
                                        "--id", "patient", "--json", "--count", "1", "--timeout", "30"}));
  ASSERT_TRUE(read_until(daemon, "owned by user 'nobody'", patience)) << daemon.output();
  auto publisher = Publisher<TestSnapshot>::create("taken", {.prefix = prefix_});
  EXPECT_EQ(publisher.epoch(), 1U) << "adopted (and wrapped) the squatter's epoch";
  ASSERT_TRUE(read_until(daemon, "\"event\":\"attached\"", patience)) << daemon.output();
  publisher.publish(TestSnapshot{TestSnapshot::make(1)});
  EXPECT_EQ(daemon.wait_exit(patience), 0) << daemon.output();
}

TEST_F(HostileUser, AFifoUnderTheNameNeverBlocksAReaderOrATool) {
  ASSERT_EQ(mkfifo(path("fifo").c_str(), 0666), 0);
  auto opened = std::async(std::launch::async, [&] {
    try {
      (void)RegionReader::open("/" + prefix_ + ":fifo");
      return std::string("opened");
    } catch (const Error& failure) {
      return std::string(failure.what());
    }
  });
  ASSERT_EQ(opened.wait_for(patience), std::future_status::ready) << "open() blocked on a FIFO";
  EXPECT_NE(opened.get().find("is a FIFO, not a shmsnap region"), std::string::npos);
  // Each run is bounded by `patience`: a tool that blocks fails the test.
  for (const std::vector<std::string>& tool :
       {std::vector<std::string>{bin_dir() + "/shmsnap", "dump", "fifo", "--prefix", prefix_},
        std::vector<std::string>{bin_dir() + "/shmsnap-subscriber", "--topic", "fifo", "--prefix", prefix_, "--id", "x",
                                 "--timeout", "2"}}) {
    const auto [code, text] = run(tool);
    EXPECT_NE(code, 0) << tool[1] << ": " << text;
    EXPECT_NE(text.find("is a FIFO, not a shmsnap region"), std::string::npos) << tool[1] << ": " << text;
  }
  const auto [stat_code, stat_text] = run({bin_dir() + "/shmsnap", "shm", "stat", "/" + prefix_ + ":fifo"});
  EXPECT_EQ(stat_code, 0) << stat_text;
  EXPECT_NE(stat_text.find("a FIFO, not a shmsnap region"), std::string::npos) << stat_text;
}

TEST_F(HostileUser, ALinkUnderTheNameIsNeverFollowed) {
  // The target would be a valid region of another topic: following it would read
  // the wrong topic's data as this one's.
  auto other = Publisher<TestSnapshot>::create("target", {.prefix = prefix_});
  ASSERT_EQ(symlink(path("target").c_str(), path("link").c_str()), 0);
  try {
    (void)RegionReader::open("/" + prefix_ + ":link");
    FAIL() << "followed a symbolic link";
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::invalid_region);
    EXPECT_NE(std::string(failure.what()).find("symbolic link"), std::string::npos) << failure.what();
    EXPECT_NE(std::string(failure.what()).find("shmsnap clean --force"), std::string::npos) << failure.what();
  }
}

TEST_F(HostileUser, CleanReportsPlantedNonFilesAndRemovesThemOnlyWithForce) {
  ASSERT_EQ(mkfifo(path("fifo").c_str(), 0666), 0);
  ASSERT_EQ(symlink("/etc/passwd", path("link").c_str()), 0);
  ASSERT_EQ(mkdir(path("directory").c_str(), 0755), 0);
  const auto [code, text] = run({bin_dir() + "/shmsnap", "clean", "--prefix", prefix_});
  EXPECT_EQ(code, 0) << text;
  EXPECT_NE(text.find("kept " + path("fifo") + ": a FIFO, not a shmsnap region"), std::string::npos) << text;
  EXPECT_NE(text.find("kept " + path("link") + ": a symbolic link"), std::string::npos) << text;
  EXPECT_NE(text.find("kept " + path("directory") + ": a directory"), std::string::npos) << text;
  EXPECT_TRUE(fs::is_fifo(path("fifo")));

  const auto [forced_code, forced_text] = run({bin_dir() + "/shmsnap", "clean", "--prefix", prefix_, "--force"});
  EXPECT_EQ(forced_code, 0) << forced_text;
  EXPECT_NE(forced_text.find("removed " + path("fifo")), std::string::npos) << forced_text;
  EXPECT_FALSE(fs::exists(fs::symlink_status(path("fifo"))));
  EXPECT_FALSE(fs::exists(fs::symlink_status(path("link"))));
  EXPECT_FALSE(fs::exists(fs::symlink_status(path("directory"))));
  EXPECT_TRUE(fs::exists("/etc/passwd")) << "a link's target is never touched";
}

TEST_F(HostileUser, ADirectoryUnderTheNameGivesThePublisherAClearError) {
  ASSERT_EQ(mkdir(path("directory").c_str(), 0755), 0);
  const auto [code, text] = run({bin_dir() + "/shmsnap-publisher", "--topic", "directory", "--schema", "robot.pose",
                                 "--prefix", prefix_, "--count", "1"});
  EXPECT_NE(code, 0);
  EXPECT_NE(code, 2) << "not a usage error: " << text;
  EXPECT_NE(text.find("directory"), std::string::npos) << text;
  EXPECT_NE(text.find("shmsnap clean --force"), std::string::npos) << text;
}

TEST_F(HostileUser, AnEmptyPrefixOptionIsRefused) {
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{bin_dir() + "/shmsnap", "list", "--prefix", ""},
        std::vector<std::string>{bin_dir() + "/shmsnap-publisher", "--topic", "t", "--schema", "robot.pose", "--prefix",
                                 "", "--count", "1"},
        std::vector<std::string>{bin_dir() + "/shmsnap-subscriber", "--topic", "t", "--prefix", "", "--timeout",
                                 "1"}}) {
    const auto [code, text] = run(command);
    EXPECT_EQ(code, 2) << command[0] << ": " << text;
    EXPECT_NE(text.find("empty prefix"), std::string::npos) << command[0] << ": " << text;
  }
}

// A user with write access to a region: what it writes can make readers refuse
// data, never adopt it, crash, or print what it planted to a terminal.
class WriterOfTheRegion : public HostileUser {};

TEST_F(WriterOfTheRegion, BytesInTheHeaderAndTableNeverReachATerminalOrBreakJson) {
  auto publisher = Publisher<TestSnapshot>::create("escapes", {.prefix = prefix_});
  publisher.publish(TestSnapshot{TestSnapshot::make(1)});
  auto subscriber = Subscriber<TestSnapshot>::open("escapes", {.prefix = prefix_, .id = "listed"});
  {
    RegionTamper tamper("/" + prefix_ + ":escapes");
    // Invalid UTF-8 and a terminal escape sequence in the schema name, and an
    // escape sequence in the mirrored subscriber id.
    std::memcpy(tamper.header().schema_name, "\xff\xfe\x1b[31mred\x1b[0m", 15);
    auto* table = reinterpret_cast<detail::SubscriberEntry*>(tamper.bytes() + sizeof(detail::RegionHeader));
    std::memcpy(table[0].id, "\x1b]0;owned\x07", 10);
  }
  for (const bool json : {true, false}) {
    std::vector<std::string> list{bin_dir() + "/shmsnap", "list", "--prefix", prefix_};
    std::vector<std::string> dump{bin_dir() + "/shmsnap", "dump", "escapes", "--prefix", prefix_};
    if (json) {
      list.emplace_back("--json");
      dump.emplace_back("--json");
    }
    for (const auto& command : {list, dump}) {
      const auto [code, text] = run(command);
      EXPECT_EQ(code, 0) << command[1] << ": " << text;
      EXPECT_EQ(text.find('\x1b'), std::string::npos) << command[1] << " printed an escape sequence: " << text;
      // Shown escaped: JSON doubles the backslashes of the escapes.
      const std::string shown = json ? "\\\\xff\\\\xfe\\\\x1b[31mred" : "\\xff\\xfe\\x1b[31mred";
      EXPECT_NE(text.find(shown), std::string::npos) << command[1] << ": " << text;
    }
  }
}

TEST_F(WriterOfTheRegion, ASlotClaimingAnUnannouncedPublishIsRefusedNotAdopted) {
  auto publisher = Publisher<TestSnapshot>::create("future", {.prefix = prefix_});
  publisher.publish(TestSnapshot{TestSnapshot::make(1)});
  publisher.publish(TestSnapshot{TestSnapshot::make(2)});
  {
    RegionTamper tamper("/" + prefix_ + ":future");
    tamper.published_slot().publish_seq.store(std::uint64_t{1} << 60);
  }
  // A late joiner: before the fix it started at 2^60 and never delivered again.
  auto subscriber = Subscriber<TestSnapshot>::open("future", {.prefix = prefix_});
  EXPECT_FALSE(subscriber.has_value()) << "adopted seq " << subscriber.info().seq;
  EXPECT_GE(subscriber.stats().inconsistent, 1U);
  publisher.publish(TestSnapshot{TestSnapshot::make(3)});
  ASSERT_TRUE(subscriber.wait(patience));
  EXPECT_EQ(subscriber.info().seq, 3U);
  EXPECT_TRUE(subscriber.latest().intact());
  publisher.publish(TestSnapshot{TestSnapshot::make(4)});
  ASSERT_TRUE(subscriber.wait(patience));
  EXPECT_EQ(subscriber.info().seq, 4U) << "it keeps delivering";
}

TEST_F(WriterOfTheRegion, AnOddSequenceWrittenIntoASlotDoesNotStickOrLoseSnapshots) {
  auto publisher = Publisher<TestSnapshot>::create("odd", {.prefix = prefix_, .slot_count = 3});
  auto subscriber = Subscriber<TestSnapshot>::open("odd", {.prefix = prefix_});
  {
    RegionTamper tamper("/" + prefix_ + ":odd");
    for (std::uint32_t slot = 0; slot < 3; ++slot) {
      auto* header = reinterpret_cast<detail::SlotHeader*>(tamper.bytes() + tamper.header().header_size +
                                                           std::uint64_t{slot} * tamper.header().slot_stride);
      reinterpret_cast<std::atomic<std::uint64_t>&>(header->lock).store(7);
    }
  }
  // Every slot is written once more by its publisher: from then on each snapshot
  // is delivered (before, every third stayed odd for good and was lost).
  for (std::uint64_t seq = 1; seq <= 9; ++seq) {
    publisher.publish(TestSnapshot{TestSnapshot::make(seq)});
    ASSERT_TRUE(subscriber.wait(patience)) << "seq " << seq;
    EXPECT_EQ(subscriber.info().seq, seq);
    EXPECT_TRUE(subscriber.latest().intact());
  }
}

class FrozenPublisher : public HostileUser {};

TEST_F(FrozenPublisher, AHeartbeatAheadOfNowOrAbsurdMakesTheStateStaleNotFresh) {
  // The publisher beats only when a subscriber writes to it: the test owns the word.
  auto publisher =
      Publisher<TestSnapshot>::create("future", {.prefix = prefix_, .heartbeat_interval = std::chrono::hours(1)});
  publisher.publish(TestSnapshot{TestSnapshot::make(1)});
  auto subscriber = Subscriber<TestSnapshot>::open(
      "future", {.prefix = prefix_, .id = "clock", .stall_timeout = std::chrono::milliseconds(400)});
  ASSERT_FALSE(subscriber.stale());
  const auto stale_within = [&](bool wanted) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (subscriber.stale() != wanted && std::chrono::steady_clock::now() < deadline) {
      subscriber.wait(std::chrono::milliseconds(50));
    }
    return subscriber.stale() == wanted;
  };
  RegionTamper tamper("/" + prefix_ + ":future");
  // A heartbeat an hour ahead: its age was negative, so it never looked old.
  tamper.header().heartbeat_ns.store(monotonic_ns() + 3'600'000'000'000);
  EXPECT_TRUE(stale_within(true)) << "a heartbeat in the future hid a publisher that does not beat";
  // Real beats (kept up while we wait) make it fresh again.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (subscriber.stale() && std::chrono::steady_clock::now() < deadline) {
    tamper.header().heartbeat_ns.store(monotonic_ns());
    subscriber.wait(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(subscriber.stale()) << "a real beat makes it fresh again";
  // INT64_MIN: now - INT64_MIN overflowed to a negative age.
  tamper.header().heartbeat_ns.store(std::numeric_limits<std::int64_t>::min());
  EXPECT_TRUE(stale_within(true)) << "INT64_MIN hid a publisher that does not beat";
}

TEST_F(FrozenPublisher, APublisherFlappingAroundTheStallTimeoutIsLoggedOncePerIntervalNotPerFlap) {
  ChildProcess& publisher = launch({bin_dir() + "/shmsnap-publisher", "--topic", "flappy", "--schema", "robot.pose",
                                    "--prefix", prefix_, "--rate", "50", "--log-level", "warn"});
  ASSERT_TRUE(publisher.wait_for_line("ready", patience)) << publisher.output();
  ChildProcess& daemon = launch(merged({bin_dir() + "/shmsnap-subscriber", "--topic", "flappy", "--prefix", prefix_,
                                        "--id", "watcher", "--json", "--stall-timeout", "0.2", "--timeout", "60"}));
  ASSERT_TRUE(read_until(daemon, "\"event\":\"attached\"", patience)) << daemon.output();
  constexpr int flaps = 6;
  for (int flap = 0; flap < flaps; ++flap) {
    publisher.signal(SIGSTOP);
    ASSERT_TRUE(read_until(daemon, "\"event\":\"publisher_stalled\"", patience)) << "flap " << flap;
    publisher.signal(SIGCONT);
    ASSERT_TRUE(read_until(daemon, "\"event\":\"publisher_resumed\"", patience)) << "flap " << flap;
  }
  daemon.signal(SIGTERM);
  ASSERT_TRUE(daemon.wait_exit(patience).has_value());
  const std::string& text = daemon.output();
  // Every flap is an event (data), but the log says it once within the interval.
  EXPECT_EQ(count_lines(text, "\"event\":\"publisher_stalled\""), static_cast<std::size_t>(flaps));
  EXPECT_EQ(count_lines(text, "has not beaten"), 1U) << text;   // the library's line
  EXPECT_EQ(count_lines(text, "stopped beating"), 1U) << text;  // the daemon's line
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(FrozenPublisher, AStoppedPublisherMakesTheStateStaleAndFreshAgainWhenItMoves) {
  ChildProcess& publisher = launch({bin_dir() + "/shmsnap-publisher", "--topic", "frozen", "--schema", "robot.pose",
                                    "--prefix", prefix_, "--rate", "200", "--log-level", "warn"});
  ASSERT_TRUE(publisher.wait_for_line("ready", patience)) << publisher.output();
  UntypedSubscriber subscriber("frozen", nullptr, {.prefix = prefix_, .stall_timeout = std::chrono::milliseconds(300)});
  std::vector<StatusEvent> events;
  subscriber.on_status([&](StatusEvent event, const UpdateInfo&) { events.push_back(event); });
  const auto wait_until = [&](const auto& condition) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (!condition() && std::chrono::steady_clock::now() < deadline) {
      subscriber.wait(std::chrono::milliseconds(50));
    }
    return condition();
  };
  ASSERT_TRUE(wait_until([&] { return subscriber.has_value() && !subscriber.stale(); }));

  publisher.signal(SIGSTOP);
  EXPECT_TRUE(wait_until([&] { return subscriber.stale(); })) << "a frozen publisher went unnoticed";
  EXPECT_TRUE(subscriber.info().stale);
  EXPECT_EQ(std::count(events.begin(), events.end(), StatusEvent::publisher_stalled), 1);
  // The tools see it too.
  const auto [code, text] = run({bin_dir() + "/shmsnap", "list", "--prefix", prefix_, "--json"});
  EXPECT_EQ(code, 0) << text;
  EXPECT_NE(text.find("\"heartbeat_age_ns\""), std::string::npos) << text;

  publisher.signal(SIGCONT);
  EXPECT_TRUE(wait_until([&] { return !subscriber.stale(); })) << "it never became fresh again";
  EXPECT_EQ(std::count(events.begin(), events.end(), StatusEvent::publisher_resumed), 1);
  const std::uint64_t seq = subscriber.info().seq;
  EXPECT_TRUE(wait_until([&] { return subscriber.info().seq > seq; })) << "deliveries resume";
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(FrozenPublisher, ARepublisherWhoseSourceIsGoneServesItsLastStateMarkedStale) {
  auto publisher = Publisher<TestSnapshot>::create("republished", {.prefix = prefix_});
  publisher.publish(TestSnapshot{TestSnapshot::make(1)});
  auto early = Subscriber<TestSnapshot>::open("republished", {.prefix = prefix_});
  std::vector<StatusEvent> events;
  early.on_status([&](StatusEvent event, const UpdateInfo&) { events.push_back(event); });
  ASSERT_FALSE(early.stale());

  publisher.mark_source_lost();
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (!early.stale() && std::chrono::steady_clock::now() < deadline) {
    early.wait(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(early.stale()) << "an attached subscriber is told";
  EXPECT_EQ(events, std::vector<StatusEvent>{StatusEvent::publisher_stalled});
  auto late = Subscriber<TestSnapshot>::open("republished", {.prefix = prefix_});
  ASSERT_TRUE(late.has_value());
  EXPECT_TRUE(late.stale()) << "a late subscriber starts stale";
  EXPECT_TRUE(late.info().stale);
  EXPECT_EQ(late.info().seq, 1U);

  publisher.publish(TestSnapshot{TestSnapshot::make(2)});  // the source is back
  ASSERT_TRUE(early.wait(patience));
  EXPECT_FALSE(early.stale());
  EXPECT_EQ(events.back(), StatusEvent::publisher_resumed);
  ASSERT_TRUE(late.wait(patience));
  EXPECT_FALSE(late.stale());
}

}  // namespace
}  // namespace shmsnap::test
