// What a hostile local user can do with names in /dev/shm: create a topic's region
// before its publisher (a squatter), or plant a FIFO, a symbolic link or a
// directory under the name. Subscribers and tools refuse each with an error that
// says what is there and what to do; nothing blocks, nothing is followed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

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
