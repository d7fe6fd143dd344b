// The `shmsnap` admin CLI against real publishers and subscribers: list and dump
// of a live topic of each bundled schema, list, dump and watch of socket-mode
// topics through their sockets, watch, clean removing exactly the dead
// processes' leftovers, shm and mq commands (priority order, several queues at
// once, a full queue with --nonblock, bad names, kernel limits).
#include <signal.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "cli_test_support.hpp"
#include "shmsnap/admin.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/schema.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class CliAdmin : public CliTest {
 protected:
  [[nodiscard]] bool shm_exists(const std::string& topic) const {
    return fs::exists("/dev/shm/" + prefix_ + ":" + topic);
  }
  [[nodiscard]] bool mq_exists(const std::string& suffix) const {
    return fs::exists("/dev/mqueue/" + prefix_ + ":" + suffix);
  }
};

TEST_F(CliAdmin, ListAndDumpShowALiveTopicOfEachBundledSchema) {
  ChildProcess& quotes = publisher("quotes", "market.quote_book", {"--rate", "50"});
  ChildProcess& pose = publisher("pose", "robot.pose", {"--rate", "50"});
  ChildProcess& health = publisher("health", "service.health", {"--rate", "50"});
  for (ChildProcess* feed : {&quotes, &pose, &health}) {
    ASSERT_TRUE(feed->wait_for_line("stats", patience)) << feed->output();  // published for a second
  }
  ChildProcess& follower = daemon({"pose"}, "lister");
  ASSERT_TRUE(next_json(follower, is_event("attached"))) << follower.output();

  // The publisher mirrors its subscriber table into the region on its heartbeat.
  json topics;
  for (int attempt = 0; attempt < 600; ++attempt) {
    const CliResult list = admin({"list", "--prefix", prefix_, "--json"});
    ASSERT_EQ(list.code, 0) << list.err;
    topics = json::parse(list.out);
    bool listed = false;
    for (const json& topic : topics) {
      listed = listed || (topic["topic"] == "pose" && topic["subscribers"].size() == 1);
    }
    if (listed) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(topics.size(), 3U) << topics.dump(2);
  const std::map<std::string, std::pair<std::string, pid_t>> expected{{"quotes", {"market.quote_book", quotes.pid()}},
                                                                      {"pose", {"robot.pose", pose.pid()}},
                                                                      {"health", {"service.health", health.pid()}}};
  for (const json& topic : topics) {
    const auto& [schema, pid] = expected.at(topic["topic"]);
    EXPECT_EQ(topic["valid"], true);
    EXPECT_EQ(topic["schema"], schema);
    EXPECT_EQ(topic["schema_version"], 1);
    EXPECT_EQ(topic["publisher_pid"], pid);
    EXPECT_EQ(topic["publisher_alive"], true);
    EXPECT_EQ(topic["epoch"], 1);
    EXPECT_GE(topic["seq"].get<std::uint64_t>(), 1U);
    EXPECT_TRUE(topic["last_publish_age_ns"].is_number());
    if (topic["topic"] == "pose") {
      ASSERT_EQ(topic["subscribers"].size(), 1U) << topic.dump(2);
      EXPECT_EQ(topic["subscribers"][0]["id"], "lister");
      EXPECT_EQ(topic["subscribers"][0]["pid"], follower.pid());
      EXPECT_EQ(topic["subscribers"][0]["alive"], true);
    }
  }
  const CliResult table = admin({"list", "--prefix", prefix_});
  ASSERT_EQ(table.code, 0);
  for (const std::string& text :
       std::vector<std::string>{"quotes", "market.quote_book v1", "robot.pose v1", "service.health v1",
                                "subscriber lister", std::to_string(pose.pid()) + " alive"}) {
    EXPECT_NE(table.out.find(text), std::string::npos) << text << " missing in:\n" << table.out;
  }

  const CliResult book = admin({"dump", "quotes", "--prefix", prefix_, "--json"});
  ASSERT_EQ(book.code, 0) << book.err;
  const json quote = json::parse(book.out);
  EXPECT_EQ(quote["schema"], "market.quote_book");
  EXPECT_GE(quote["seq"].get<std::uint64_t>(), 1U);
  EXPECT_EQ(quote["data"]["symbol"], "QUOTES");
  EXPECT_EQ(quote["data"]["bid_price"].size(), 10U);

  const json where = json::parse(admin({"dump", "pose", "--prefix", prefix_, "--json"}).out);
  EXPECT_EQ(where["data"]["frame_id"], "pose");
  EXPECT_TRUE(where["data"]["orientation"].contains("w"));
  EXPECT_GT(where["data"]["stamp"]["sec"].get<std::int64_t>(), 0);

  const json service = json::parse(admin({"dump", "health", "--prefix", prefix_, "--json"}).out);
  EXPECT_EQ(service["data"]["service"], "health");
  EXPECT_TRUE(service["data"]["status"].is_string());
  EXPECT_GT(service["data"]["uptime_ns"].get<std::uint64_t>(), 0U);

  const CliResult text = admin({"dump", "health", "--prefix", prefix_});
  EXPECT_NE(text.out.find("topic health (service.health v1), publisher pid " + std::to_string(health.pid())),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("  requests = "), std::string::npos) << text.out;
  // The bundled schemas say what their numbers mean.
  const std::size_t uptime = text.out.find("  uptime_ns = ");
  ASSERT_NE(uptime, std::string::npos) << text.out;
  EXPECT_NE(text.out.substr(uptime, text.out.find('\n', uptime) - uptime)
                .find(" ns  # Nanoseconds since the service (last) started."),
            std::string::npos)
      << text.out;
  EXPECT_EQ(where["fields"]["position.x"]["unit"], "m") << where.dump(2);

  const CliResult missing = admin({"dump", "absent", "--prefix", prefix_});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("ENOENT"), std::string::npos) << missing.err;

  follower.signal(SIGTERM);
  EXPECT_EQ(follower.wait_exit(patience), 0);
  for (ChildProcess* feed : {&quotes, &pose, &health}) {
    feed->signal(SIGTERM);
    EXPECT_EQ(feed->wait_exit(patience), 0);
  }
  EXPECT_EQ(admin({"list", "--prefix", prefix_, "--json"}).out, "[]\n");
}

TEST_F(CliAdmin, WatchPrintsEachUpdateWithChangedFieldsMarked) {
  ChildProcess& feed = publisher("pose", "robot.pose", {"--rate", "50"});
  ASSERT_TRUE(feed.wait_for_line("ready", patience));
  ChildProcess& watch = launch("shmsnap", {"watch", "pose", "--prefix", prefix_, "--count", "3"});
  EXPECT_EQ(watch.wait_exit(patience), 0) << watch.output();
  EXPECT_NE(watch.output().find("--- pose robot.pose v1  publisher pid " + std::to_string(feed.pid())),
            std::string::npos)
      << watch.output();
  EXPECT_NE(watch.output().find("* position.x = "), std::string::npos) << watch.output();
  EXPECT_NE(watch.output().find("  frame_id = \"pose\""), std::string::npos) << watch.output();
  feed.signal(SIGTERM);
  EXPECT_EQ(feed.wait_exit(patience), 0);

  ChildProcess& nothing = launch("shmsnap", {"watch", "gone", "--prefix", prefix_, "--timeout", "0.2"}, true);
  EXPECT_EQ(nothing.wait_exit(patience), 4);
  EXPECT_NE(nothing.output().find("did not appear"), std::string::npos) << nothing.output();
}

// Socket mode: topics offered on DIR/<topic>.sock, DIR a fresh directory per test
// (removed after TearDown stopped the publishers).
class CliAdminSocket : public CliAdmin {
 protected:
  ChildProcess& socket_publisher(const std::string& topic, const std::string& schema) {
    return publisher(topic, schema, {"--socket-dir", directory_, "--rate", "50"});
  }

  SocketDirectory sockets_;
  const std::string directory_ = sockets_.path();
};

TEST_F(CliAdminSocket, ListShowsLiveSocketTopicsAndOnesWithoutAPublisher) {
  ChildProcess& pose = socket_publisher("pose", "robot.pose");
  ChildProcess& doomed = socket_publisher("doomed", "service.health");
  for (ChildProcess* feed : {&pose, &doomed}) {
    ASSERT_TRUE(feed->wait_for_line("stats", patience)) << feed->output();  // published for a second
  }
  doomed.signal(SIGKILL);  // its socket stays behind, answered by nobody
  ASSERT_TRUE(doomed.wait_exit(patience));

  const CliResult list = admin({"list", "--socket-dir", directory_, "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  const json topics = json::parse(list.out);
  ASSERT_EQ(topics.size(), 2U) << topics.dump(2);
  const json& gone = topics[0];  // sorted: doomed, pose
  EXPECT_EQ(gone["topic"], "doomed");
  EXPECT_EQ(gone["socket"], directory_ + "/doomed.sock");
  EXPECT_EQ(gone["valid"], false);
  EXPECT_EQ(gone["publisher_alive"], false);
  const json& live = topics[1];
  EXPECT_EQ(live["topic"], "pose");
  EXPECT_EQ(live["socket"], directory_ + "/pose.sock");
  EXPECT_EQ(live["valid"], true);
  EXPECT_EQ(live["schema"], "robot.pose");
  EXPECT_EQ(live["publisher_pid"], pose.pid());
  EXPECT_EQ(live["publisher_alive"], true);
  EXPECT_GE(live["seq"].get<std::uint64_t>(), 1U);
  EXPECT_TRUE(live["last_publish_age_ns"].is_number());
  for (const json& row : live["subscribers"]) {
    EXPECT_NE(row["pid"], ::getpid()) << "list's own attachment is not one of the topic's subscribers";
  }

  const CliResult table = admin({"list", "--socket-dir", directory_});
  ASSERT_EQ(table.code, 0) << table.err;
  for (const std::string& text : std::vector<std::string>{"robot.pose v1", std::to_string(pose.pid()) + " alive",
                                                          "no live publisher (" + directory_ + "/doomed.sock)"}) {
    EXPECT_NE(table.out.find(text), std::string::npos) << text << " missing in:\n" << table.out;
  }
  // Socket mode names nothing under the prefix; named mode's listing is unchanged.
  EXPECT_EQ(admin({"list", "--prefix", prefix_, "--json"}).out, "[]\n");

  pose.signal(SIGTERM);
  EXPECT_EQ(pose.wait_exit(patience), 0);
  const CliResult after = admin({"list", "--socket-dir", directory_, "--json"});
  EXPECT_EQ(json::parse(after.out).size(), 1U) << "a clean shutdown removes its socket: " << after.out;
}

TEST_F(CliAdminSocket, DumpAndWatchReadASocketTopicThroughItsSocket) {
  ChildProcess& pose = socket_publisher("pose", "robot.pose");
  ASSERT_TRUE(pose.wait_for_line("stats", patience)) << pose.output();

  const CliResult dump = admin({"dump", "pose", "--socket-dir", directory_, "--json"});
  ASSERT_EQ(dump.code, 0) << dump.err;
  const json where = json::parse(dump.out);
  EXPECT_EQ(where["schema"], "robot.pose");
  EXPECT_EQ(where["publisher_pid"], pose.pid());
  EXPECT_EQ(where["publisher_alive"], true);
  EXPECT_GE(where["seq"].get<std::uint64_t>(), 1U);
  EXPECT_EQ(where["data"]["frame_id"], "pose");
  EXPECT_GT(where["data"]["stamp"]["sec"].get<std::int64_t>(), 0);

  const CliResult text = admin({"dump", "pose", "--socket-dir", directory_});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("topic pose (robot.pose v1), publisher pid " + std::to_string(pose.pid()) + " alive"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("  frame_id = \"pose\""), std::string::npos) << text.out;

  const CliResult missing = admin({"dump", "absent", "--socket-dir", directory_});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find(directory_ + "/absent.sock"), std::string::npos) << missing.err;

  ChildProcess& watch = launch("shmsnap", {"watch", "pose", "--socket-dir", directory_, "--count", "3", "--no-color"});
  EXPECT_EQ(watch.wait_exit(patience), 0) << watch.output();
  EXPECT_NE(watch.output().find("--- pose robot.pose v1  publisher pid " + std::to_string(pose.pid())),
            std::string::npos)
      << watch.output();
  EXPECT_NE(watch.output().find("* position.x = "), std::string::npos) << watch.output();

  pose.signal(SIGTERM);
  EXPECT_EQ(pose.wait_exit(patience), 0);
}

TEST_F(CliAdmin, CleanRemovesDeadProcessesLeftoversButNeverALiveOne) {
  ChildProcess& live = publisher("live", "service.health", {"--rate", "20"});
  ChildProcess& doomed = publisher("doomed", "robot.pose", {"--rate", "20"});
  ASSERT_TRUE(live.wait_for_line("ready", patience));
  ASSERT_TRUE(doomed.wait_for_line("ready", patience));
  ChildProcess& waiting = daemon({"doomed"}, "waiting");
  ChildProcess& killed = daemon({"doomed"}, "killed");
  ChildProcess& watching_live = daemon({"live"}, "watcher");
  for (ChildProcess* follower : {&waiting, &killed, &watching_live}) {
    ASSERT_TRUE(next_json(*follower, is_event("attached"))) << follower->output();
  }
  doomed.signal(SIGKILL);
  ASSERT_EQ(doomed.wait_exit(patience), 128 + SIGKILL);
  ASSERT_TRUE(next_json(killed, is_event("publisher_lost")));
  killed.signal(SIGKILL);  // its queue outlives it: nobody is left to reclaim it
  ASSERT_EQ(killed.wait_exit(patience), 128 + SIGKILL);
  ASSERT_TRUE(shm_exists("doomed"));
  ASSERT_TRUE(mq_exists("doomed:ctl"));
  ASSERT_TRUE(mq_exists("doomed:sub:killed"));

  const CliResult dry = admin({"clean", "--prefix", prefix_, "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would remove /dev/shm/" + prefix_ + ":doomed"), std::string::npos) << dry.out;
  EXPECT_TRUE(shm_exists("doomed")) << "a dry run removes nothing";
  EXPECT_TRUE(mq_exists("doomed:sub:killed"));

  const CliResult clean = admin({"clean", "--prefix", prefix_});
  ASSERT_EQ(clean.code, 0) << clean.err;
  EXPECT_NE(clean.out.find("removed /dev/shm/" + prefix_ + ":doomed: publisher pid " + std::to_string(doomed.pid())),
            std::string::npos)
      << clean.out;
  EXPECT_NE(clean.out.find("removed /dev/mqueue/" + prefix_ + ":doomed:ctl"), std::string::npos) << clean.out;
  EXPECT_NE(clean.out.find("removed /dev/mqueue/" + prefix_ + ":doomed:sub:killed"), std::string::npos) << clean.out;
  EXPECT_NE(clean.out.find("kept /dev/shm/" + prefix_ + ":live: live"), std::string::npos) << clean.out;
  EXPECT_NE(clean.out.find("kept /dev/mqueue/" + prefix_ + ":doomed:sub:waiting: live: held open by pid " +
                           std::to_string(waiting.pid())),
            std::string::npos)
      << clean.out;
  EXPECT_NE(clean.out.find("3 removed"), std::string::npos) << clean.out;
  EXPECT_FALSE(shm_exists("doomed"));
  EXPECT_FALSE(mq_exists("doomed:ctl"));
  EXPECT_FALSE(mq_exists("doomed:sub:killed"));
  EXPECT_TRUE(shm_exists("live"));
  EXPECT_TRUE(mq_exists("live:ctl"));
  EXPECT_TRUE(mq_exists("live:sub:watcher"));
  EXPECT_TRUE(mq_exists("doomed:sub:waiting"));

  // The live topic still works after the clean.
  ASSERT_TRUE(next_json(watching_live, is_refresh));
  const CliResult again = admin({"clean", "--prefix", prefix_});
  EXPECT_NE(again.out.find("0 removed"), std::string::npos) << again.out;

  for (ChildProcess* child : {&waiting, &watching_live, &live}) {
    child->signal(SIGTERM);
    EXPECT_EQ(child->wait_exit(patience), 0);
  }
}

TEST_F(CliAdmin, ShmStatAndRmKnowALiveRegionFromGarbage) {
  ChildProcess& feed = publisher("held", "robot.pose", {"--rate", "20"});
  ASSERT_TRUE(feed.wait_for_line("ready", patience));
  const std::string region = "/" + prefix_ + ":held";
  const CliResult stat = admin({"shm", "stat", region});
  ASSERT_EQ(stat.code, 0) << stat.err;
  EXPECT_NE(stat.out.find("region of schema robot.pose v1"), std::string::npos) << stat.out;
  EXPECT_NE(stat.out.find("pid " + std::to_string(feed.pid()) + " alive, holds the topic lock"), std::string::npos)
      << stat.out;
  const CliResult listing = admin({"shm", "ls", "--starts-with", prefix_ + ":"});
  EXPECT_NE(listing.out.find(region), std::string::npos) << listing.out;
  const CliResult refused = admin({"shm", "rm", region});
  EXPECT_EQ(refused.code, 3);
  EXPECT_NE(refused.err.find("live publisher (pid " + std::to_string(feed.pid()) + ")"), std::string::npos)
      << refused.err;
  EXPECT_TRUE(shm_exists("held"));
  feed.signal(SIGTERM);
  EXPECT_EQ(feed.wait_exit(patience), 0);

  const CliResult absent = admin({"shm", "rm", region});
  EXPECT_EQ(absent.code, 1);
  EXPECT_NE(absent.err.find("does not exist"), std::string::npos) << absent.err;
}

TEST_F(CliAdmin, MqCommandsKeepPriorityOrderAndReportFullQueuesAndBadNames) {
  const std::string first = queue("q1");
  const std::string second = queue("q2");
  ASSERT_EQ(admin({"mq", "create", first, "--maxmsg", "3", "--msgsize", "64"}).code, 0);
  ASSERT_EQ(admin({"mq", "create", second, "--mode", "0640"}).code, 0);
  const CliResult twice = admin({"mq", "create", first});
  EXPECT_EQ(twice.code, 3);
  EXPECT_NE(twice.err.find("EEXIST"), std::string::npos) << twice.err;

  for (const auto& [text, priority] :
       std::vector<std::pair<std::string, std::string>>{{"low", "1"}, {"urgent", "9"}, {"middle", "5"}}) {
    const CliResult sent = admin({"mq", "send", first, text, "--prio", priority});
    ASSERT_EQ(sent.code, 0) << sent.err;
  }
  const CliResult full = admin({"mq", "send", first, "overflow", "--nonblock"});
  EXPECT_EQ(full.code, 5);
  EXPECT_NE(full.err.find("is full (EAGAIN)"), std::string::npos) << full.err;
  const CliResult too_big = admin({"mq", "send", first, std::string(65, 'x'), "--nonblock"});
  EXPECT_EQ(too_big.code, 2);
  EXPECT_NE(too_big.err.find("larger than the message size"), std::string::npos) << too_big.err;
  ASSERT_EQ(admin({"mq", "send", second, "hello"}).code, 0);

  const CliResult stat = admin({"mq", "stat", first});
  ASSERT_EQ(stat.code, 0) << stat.err;
  EXPECT_NE(stat.out.find("max messages:     3"), std::string::npos) << stat.out;
  EXPECT_NE(stat.out.find("messages pending: 3"), std::string::npos) << stat.out;
  if (admin::mqueue_mounted()) {
    const CliResult listing = admin({"mq", "ls", "--starts-with", prefix_ + ":"});
    EXPECT_NE(listing.out.find(first), std::string::npos) << listing.out;
    EXPECT_NE(listing.out.find(second), std::string::npos) << listing.out;
  }

  // One queue's messages come highest priority first; both queues are drained.
  const CliResult received = admin({"mq", "recv", first, second, "--count", "4"});
  ASSERT_EQ(received.code, 0) << received.err;
  const std::size_t urgent = received.out.find(first + " prio=9: urgent");
  const std::size_t middle = received.out.find(first + " prio=5: middle");
  const std::size_t low = received.out.find(first + " prio=1: low");
  ASSERT_NE(urgent, std::string::npos) << received.out;
  ASSERT_NE(middle, std::string::npos) << received.out;
  ASSERT_NE(low, std::string::npos) << received.out;
  EXPECT_LT(urgent, middle);
  EXPECT_LT(middle, low);
  EXPECT_NE(received.out.find(second + " prio=0: hello"), std::string::npos) << received.out;

  const CliResult empty = admin({"mq", "recv", first, "--nonblock"});
  EXPECT_EQ(empty.code, 5);
  EXPECT_NE(empty.err.find("EAGAIN"), std::string::npos);
  const CliResult quiet = admin({"mq", "recv", first, second, "--timeout", "0.2"});
  EXPECT_EQ(quiet.code, 4);

  const CliResult bad = admin({"mq", "create", "no-slash"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("it must start with '/'"), std::string::npos) << bad.err;
  const CliResult over = admin({"mq", "create", queue("big"), "--maxmsg", "100000000"});
  EXPECT_EQ(over.code, 1);
  EXPECT_NE(over.err.find("fs.mqueue.msg_max"), std::string::npos) << over.err;

  EXPECT_EQ(admin({"mq", "unlink", first}).code, 0);
  EXPECT_EQ(admin({"mq", "unlink", second}).code, 0);
  const CliResult gone = admin({"mq", "unlink", first});
  EXPECT_EQ(gone.code, 1);
  EXPECT_NE(gone.err.find("No such file"), std::string::npos) << gone.err;
}

TEST_F(CliAdmin, MessagesUseTheRealSeparatorAndSayWhatIsWrong) {
  const CliResult none = admin({"list", "--prefix", prefix_});
  EXPECT_EQ(none.code, 0) << none.err;
  EXPECT_NE(none.out.find("nothing matches /dev/shm/" + prefix_ + ":*"), std::string::npos) << none.out;

  // The kernel answers '..' with EACCES, which read as "give it a wider --mode".
  for (const std::string name : {"/..", "/."}) {
    const CliResult dots = admin({"mq", "create", name});
    EXPECT_EQ(dots.code, 2) << dots.err;
    EXPECT_NE(dots.err.find("invalid message queue name '" + name + "'"), std::string::npos) << dots.err;
    EXPECT_EQ(dots.err.find("EACCES"), std::string::npos) << dots.err;
  }

  // A topic may start with '-': the error and the help say how to name it.
  const CliResult dash = admin({"dump", "-x", "--prefix", prefix_});
  EXPECT_EQ(dash.code, 2);
  EXPECT_NE(dash.err.find("goes after '--'"), std::string::npos) << dash.err;
  EXPECT_NE(dash.err.find("-- -x"), std::string::npos) << dash.err;
  const CliResult after = admin({"dump", "--prefix", prefix_, "--", "-x"});
  EXPECT_EQ(after.code, 1) << "taken as a topic, which does not exist: " << after.err;
  EXPECT_NE(after.err.find("ENOENT"), std::string::npos) << after.err;
  EXPECT_NE(admin({"dump", "--help"}).out.find("after '--'"), std::string::npos);
}

TEST_F(CliAdmin, DumpEscapesFieldNamesAndSaysAStaleTopicIsStale) {
  // Field names come from the region's descriptor, which its writer chose.
  static constexpr SchemaInfo hostile{"test.hostile", 1, 0x7e57'0003'0000'0001ULL, 8,
                                      R"({"name":"test.hostile","version":1,"size":8,"align":8,"fields":[)"
                                      R"({"name":"seq\u001b[31mred","offset":0,"size":8,"type":"u64"}]})"};
  UntypedPublisher publisher("hostile", hostile, hostile.size, {.prefix = prefix_});
  const std::uint64_t value = 7;
  publisher.publish(&value, sizeof value);
  const CliResult text = admin({"dump", "hostile", "--prefix", prefix_});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << "printed an escape sequence: " << text.out;
  EXPECT_NE(text.out.find("seq\\x1b[31mred = 7"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(" alive,"), std::string::npos) << text.out;

  // A live publisher whose source is gone serves a stale state: say so, as list does.
  publisher.mark_source_lost();
  const CliResult stale = admin({"dump", "hostile", "--prefix", prefix_});
  EXPECT_NE(stale.out.find("source lost (stale: "), std::string::npos) << stale.out;
  const json dumped = json::parse(admin({"dump", "hostile", "--prefix", prefix_, "--json"}).out);
  EXPECT_EQ(dumped["stale"], true) << dumped.dump(2);
  EXPECT_EQ(dumped["state"], "source lost") << dumped.dump(2);
  const json listed = json::parse(admin({"list", "--prefix", prefix_, "--json"}).out);
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0]["state"], dumped["state"]);
}

TEST_F(CliAdmin, ListAndDumpSayWhichTopicsABridgeImported) {
  auto own = Publisher<TestSnapshot>::create("own", {.prefix = prefix_});
  auto imported = Publisher<TestSnapshot>::create("imported", {.prefix = prefix_, .origin_id = 0xabcULL});
  own.publish(TestSnapshot{TestSnapshot::make(1)});
  imported.publish(TestSnapshot{TestSnapshot::make(1)});

  const CliResult list = admin({"list", "--prefix", prefix_});
  ASSERT_EQ(list.code, 0) << list.err;
  const auto mark = list.out.find("imported by a bridge (origin id 0x0000000000000abc)");
  EXPECT_NE(mark, std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("imported", mark + 1), std::string::npos) << "only one topic is imported:\n" << list.out;
  const json listed = json::parse(admin({"list", "--prefix", prefix_, "--json"}).out);
  std::map<std::string, std::uint64_t> origins;
  for (const json& topic : listed) {
    origins[topic["topic"].get<std::string>()] = topic["origin_id"].get<std::uint64_t>();
  }
  EXPECT_EQ(origins, (std::map<std::string, std::uint64_t>{{"imported", 0xabc}, {"own", 0}})) << listed.dump(2);

  const CliResult dump = admin({"dump", "imported", "--prefix", prefix_});
  ASSERT_EQ(dump.code, 0) << dump.err;
  EXPECT_NE(dump.out.find(", imported by a bridge (origin id 0x0000000000000abc)"), std::string::npos) << dump.out;
  EXPECT_EQ(admin({"dump", "own", "--prefix", prefix_}).out.find("imported"), std::string::npos);
  EXPECT_EQ(json::parse(admin({"dump", "imported", "--prefix", prefix_, "--json"}).out)["origin_id"], 0xabc);
}

TEST_F(CliAdmin, DumpAndWatchShowEachFieldsUnitAndDescription) {
  static constexpr SchemaInfo noted{
      "test.noted", 1, 0x7e57'0003'0000'0002ULL, 16,
      R"({"name":"test.noted","version":1,"size":16,"align":8,"fields":[)"
      R"({"name":"distance","offset":0,"size":8,"type":"f64","unit":"m","description":"Distance travelled."},)"
      R"({"name":"legs","offset":8,"size":8,"type":"struct","count":2,"struct":{"name":"Leg","size":4,"align":4,)"
      R"("fields":[{"name":"t","offset":0,"size":4,"type":"u32","unit":"µs"}]}}]})"};
  UntypedPublisher publisher("noted", noted, noted.size, {.prefix = prefix_});
  const std::array<std::uint32_t, 4> value{0, 0x40140000, 3, 4};  // 5.0 as a little-endian f64, then t = 3, 4
  publisher.publish(value.data(), sizeof value);

  const CliResult text = admin({"dump", "noted", "--prefix", prefix_});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("  distance = 5.0 m  # Distance travelled.\n"), std::string::npos) << text.out;
  // Every element of an array of structs carries its field's unit; UTF-8 units print as text.
  EXPECT_NE(text.out.find("  legs[0].t = 3 \u00b5s\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  legs[1].t = 4 \u00b5s\n"), std::string::npos) << text.out;

  const json dumped = json::parse(admin({"dump", "noted", "--prefix", prefix_, "--json"}).out);
  EXPECT_EQ(dumped["fields"]["distance"]["unit"], "m") << dumped.dump(2);
  EXPECT_EQ(dumped["fields"]["distance"]["description"], "Distance travelled.") << dumped.dump(2);
  EXPECT_EQ(dumped["fields"]["legs.t"]["unit"], "\u00b5s") << dumped.dump(2);
  EXPECT_FALSE(dumped["fields"].contains("legs")) << dumped.dump(2);

  ChildProcess& watch = launch("shmsnap", {"watch", "noted", "--prefix", prefix_, "--count", "1"});
  EXPECT_EQ(watch.wait_exit(patience), 0) << watch.output();
  EXPECT_NE(watch.output().find("  distance = 5.0 m\n"), std::string::npos) << watch.output();
  ChildProcess& watch_json = launch("shmsnap", {"watch", "noted", "--prefix", prefix_, "--count", "1", "--json"});
  EXPECT_EQ(watch_json.wait_exit(patience), 0) << watch_json.output();
  EXPECT_NE(watch_json.output().find(R"("fields":{"distance":{"unit":"m")"), std::string::npos) << watch_json.output();
}

TEST_F(CliAdmin, DumpRefusesAUnitThatCouldDriveTheTerminal) {
  // The descriptor is the publisher's to write: a unit that moves the cursor or
  // clears the screen is refused by the parser, and nothing of it is printed.
  static constexpr SchemaInfo hostile{"test.hostile_unit", 1, 0x7e57'0003'0000'0003ULL, 8,
                                      R"({"name":"test.hostile_unit","version":1,"size":8,"align":8,"fields":[)"
                                      R"({"name":"x","offset":0,"size":8,"type":"u64","unit":"\u001b[2J"}]})"};
  UntypedPublisher publisher("hostile", hostile, hostile.size, {.prefix = prefix_});
  const std::uint64_t value = 7;
  publisher.publish(&value, sizeof value);
  const CliResult text = admin({"dump", "hostile", "--prefix", prefix_});
  EXPECT_NE(text.code, 0) << text.out;
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << text.out;
  EXPECT_EQ(text.err.find('\x1b'), std::string::npos) << text.err;
  EXPECT_NE(text.err.find("fields[0] ('x'): \"unit\" holds a control or text-direction character"), std::string::npos)
      << text.err;
}

TEST_F(CliAdmin, DumpAndWatchSayStaleSourceLostAndWhyAsListDoes) {
  static constexpr SchemaInfo counter{"test.counter", 1, 0x7e57'0003'0000'0002ULL, 8,
                                      R"({"name":"test.counter","version":1,"size":8,"align":8,"fields":[)"
                                      R"({"name":"count","offset":0,"size":8,"type":"u64"}]})"};
  UntypedPublisher publisher("bridged", counter, counter.size, {.prefix = prefix_});
  const std::uint64_t value = 42;
  publisher.publish(&value, sizeof value);
  // An importer whose origin is gone: its process runs, its state is stale.
  publisher.mark_source_lost();

  const json listed = json::parse(admin({"list", "--prefix", prefix_, "--json"}).out);
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0]["stale"], true) << listed.dump(2);
  EXPECT_EQ(listed[0]["source_lost"], true) << listed.dump(2);
  ASSERT_TRUE(listed[0]["stale_reason"].is_string()) << listed.dump(2);
  EXPECT_NE(listed[0]["stale_reason"].get<std::string>().find("lost its source"), std::string::npos);

  const json dumped = json::parse(admin({"dump", "bridged", "--prefix", prefix_, "--json"}).out);
  const CliResult watched = admin({"watch", "bridged", "--prefix", prefix_, "--json", "--count", "1"});
  ASSERT_EQ(watched.code, 0) << watched.err;
  ASSERT_EQ(std::count(watched.out.begin(), watched.out.end(), '\n'), 1) << "one line per update: " << watched.out;
  const json frame = json::parse(watched.out);
  for (const char* field : {"state", "stale", "source_lost", "stale_reason", "stalled", "closed", "publisher_alive"}) {
    EXPECT_EQ(dumped[field], listed[0][field]) << field << "\n" << dumped.dump(2);
    EXPECT_EQ(frame[field], listed[0][field]) << field << "\n" << frame.dump(2);
  }
  EXPECT_EQ(frame["data"]["count"], 42) << frame.dump(2);
  EXPECT_EQ(frame["seq"], 1) << frame.dump(2);

  // The text views give the same reason.
  const std::string reason = listed[0]["stale_reason"].get<std::string>();
  EXPECT_NE(admin({"dump", "bridged", "--prefix", prefix_}).out.find("source lost (stale: " + reason + ")"),
            std::string::npos);
  const CliResult watched_text = admin({"watch", "bridged", "--prefix", prefix_, "--count", "1"});
  EXPECT_NE(watched_text.out.find("source lost (stale: " + reason + ")"), std::string::npos) << watched_text.out;
}

TEST_F(CliAdmin, MqRecvWaitsOnSeveralQueuesAtOnce) {
  const std::string first = queue("in1");
  const std::string second = queue("in2");
  ASSERT_EQ(admin({"mq", "create", first}).code, 0);
  ASSERT_EQ(admin({"mq", "create", second}).code, 0);
  ChildProcess& receiver = launch("shmsnap", {"mq", "recv", first, second, "--count", "2"});
  // The receiver must be waiting before anything is sent: its queue shows up as held.
  bool holding = false;
  for (int attempt = 0; attempt < 600 && !holding; ++attempt) {
    const auto holders = admin::scan_queue_holders();
    holding = !holders.of(first).empty() && !holders.of(second).empty();
    if (!holding) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ASSERT_TRUE(holding);
  ASSERT_EQ(admin({"mq", "send", second, "from-second", "--prio", "2"}).code, 0);
  const auto got_second = receiver.wait_for_line(second, patience);
  ASSERT_TRUE(got_second) << receiver.output();
  EXPECT_EQ(*got_second, second + " prio=2: from-second");
  ASSERT_EQ(admin({"mq", "send", first, "from-first"}).code, 0);
  const auto got_first = receiver.wait_for_line(first, patience);
  ASSERT_TRUE(got_first) << receiver.output();
  EXPECT_EQ(*got_first, first + " prio=0: from-first");
  EXPECT_EQ(receiver.wait_exit(patience), 0);
  EXPECT_EQ(admin({"mq", "unlink", first}).code, 0);
  EXPECT_EQ(admin({"mq", "unlink", second}).code, 0);
}

TEST_F(CliAdmin, BlockedMqSendEndsOnSigint) {
  const std::string name = queue("tight");
  ASSERT_EQ(admin({"mq", "create", name, "--maxmsg", "1"}).code, 0);
  ASSERT_EQ(admin({"mq", "send", name, "fills-it"}).code, 0);
  ChildProcess& sender = launch("shmsnap", {"mq", "send", name, "waits"}, true);
  bool holding = false;
  for (int attempt = 0; attempt < 600 && !holding; ++attempt) {
    holding = !admin::scan_queue_holders().of(name).empty();
    if (!holding) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ASSERT_TRUE(holding);
  sender.signal(SIGINT);
  EXPECT_EQ(sender.wait_exit(patience), 1);
  EXPECT_NE(sender.output().find("nothing sent"), std::string::npos) << sender.output();
  EXPECT_EQ(admin({"mq", "unlink", name}).code, 0);
}

}  // namespace
}  // namespace shmsnap::test
