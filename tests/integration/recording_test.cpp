// shmsnap record / replay / info end to end with real processes. Every file a test
// writes is also read by the MCAP reference library (@mcap/core under node), whose
// counts must equal the recorder's and `shmsnap info`'s; json channels validate
// against their JSON Schema; killed recorders, cut files and hostile files read up
// to their last complete chunk or fail with a clear error; a variable-size topic
// records and replays its used part only.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.hpp"
#include "mcap/reader.hpp"
#include "mcap/writer.hpp"
#include "sensor_point_cloud.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/schema_json.hpp"
#include "shmsnap/subscriber.hpp"

namespace shmsnap::test {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// One recorded message as the in-process reader sees it.
struct Recorded {
  std::string topic;
  std::uint32_t sequence = 0;
  std::string data;
  std::string descriptor;
  std::string encoding;
};

struct Scanned {
  mcap::ScanResult result;
  std::vector<Recorded> messages;
};

Scanned scan_file(const std::string& path) {
  const mcap::MappedFile file(path);
  Scanned out;
  out.result = mcap::scan(
      file.bytes(), path, [&](const mcap::Schema*, const mcap::Channel& channel, const mcap::Message& message) {
        out.messages.push_back(Recorded{channel.topic, message.sequence, std::string(message.data),
                                        channel.metadata.at("shmsnap.descriptor"), channel.message_encoding});
        return true;
      });
  return out;
}

// The decoded JSON of every recorded message of `topic`, in file order.
std::vector<Json> decoded(const Scanned& scanned, const std::string& topic) {
  std::vector<Json> out;
  for (const Recorded& message : scanned.messages) {
    if (message.topic != topic)
      continue;
    if (message.encoding == "json") {
      out.push_back(Json::parse(message.data));
    } else {
      const SnapshotCodec codec(message.descriptor);
      out.push_back(codec.decode(std::as_bytes(std::span(message.data.data(), message.data.size()))));
    }
  }
  return out;
}

// Where `text` holds a byte a terminal could act on (anything but printable ASCII
// and newline), or npos.
std::size_t first_unsafe_byte(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte != '\n' && (byte < 0x20 || byte >= 0x7f))
      return i;
  }
  return std::string::npos;
}

// A small uncompressed MCAP file with one channel and one message, built from the
// given (possibly hostile) strings.
void write_crafted(const std::string& path, const std::string& topic, const std::string& message_encoding,
                   const mcap::StringMap& channel_metadata, const std::string& schema_name) {
  mcap::Writer writer(path, mcap::WriterOptions{.compression = mcap::Compression::none,
                                                .profile = "\x1b[5m",
                                                .library = "lib\xff\x1b[2J",
                                                .background = false});
  const std::uint16_t schema = writer.add_schema(schema_name, "shmsnap.descriptor\x9b", "{}");
  const std::uint16_t channel = writer.add_channel(schema, topic, message_encoding, channel_metadata);
  writer.add_message(mcap::Message{channel, 1, 1'000'000'000, 1'000'000'000, "data"});
  writer.add_metadata(mcap::Metadata{"meta\x1b\xff", {{"key\x1b[31m", "value\xc3\x28\x07"}}});
  writer.finish();
}

class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("shmsnap_recording_" + unique_prefix())) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

class RecordingTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    ASSERT_TRUE(std::filesystem::exists(SHMSNAP_MCAP_NODE_MODULES))
        << "the @mcap npm packages are missing: configure again (cmake --preset dev) to install them";
  }

  // `shmsnap record` as a process, stdout captured.
  ChildProcess& recorder(const std::string& output, std::vector<std::string> extra) {
    std::vector<std::string> arguments{"record", "-o", output, "--prefix", prefix_};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    return launch("shmsnap", std::move(arguments));
  }

  // Stops a recorder with SIGINT and returns its per-topic recorded counts.
  std::map<std::string, long long> stop_recorder(ChildProcess& child) {
    child.signal(SIGINT);
    std::map<std::string, long long> counts;
    for (;;) {
      const auto line = child.read_line(patience);
      if (!line)
        break;
      if (line->rfind("recorded ", 0) == 0)
        counts["*"] = field(*line, "messages").value_or(-1);
      if (line->rfind("topic=", 0) == 0) {
        const std::string topic = line->substr(6, line->find(' ') - 6);
        counts[topic] = field(*line, "recorded").value_or(-1);
      }
    }
    EXPECT_EQ(child.wait_exit(patience), 0) << child.output();
    return counts;
  }

  // Records 300 poses (200 Hz) and 60 health snapshots (50 Hz) from their first
  // publish into `path`; returns the recorder's counts.
  std::map<std::string, long long> record_pose_and_health(const std::string& path) {
    ChildProcess& rec = recorder(path, {"pose", "health"});
    ChildProcess& pose =
        publisher("pose", "robot.pose", {"--rate", "200", "--count", "300", "--wait-subscribers", "1"});
    ChildProcess& health =
        publisher("health", "service.health", {"--rate", "50", "--count", "60", "--wait-subscribers", "1"});
    EXPECT_TRUE(pose.wait_for_line("done", patience)) << pose.output();
    EXPECT_TRUE(health.wait_for_line("done", patience)) << health.output();
    EXPECT_EQ(pose.wait_exit(patience), 0);
    EXPECT_EQ(health.wait_exit(patience), 0);
    return stop_recorder(rec);
  }

  // The reference reader's view of `path`.
  static Json node_check(const std::string& path, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{"/usr/bin/env", std::string("NODE_PATH=") + SHMSNAP_MCAP_NODE_MODULES, "node",
                                  SHMSNAP_MCAP_CHECK_SCRIPT, path};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ChildProcess node(argv);
    const auto line = node.read_line(patience);
    EXPECT_EQ(node.wait_exit(patience), 0) << "@mcap/core could not read " << path;
    if (!line)
      return Json();
    return Json::parse(*line);
  }

  // Checks a complete file three ways: recorder counts, `shmsnap info`, @mcap/core.
  void expect_consistent(const std::string& path, const std::map<std::string, long long>& recorder_counts) {
    const CliResult info = admin({"info", path, "--json"});
    ASSERT_EQ(info.code, 0) << info.err;
    const Json described = Json::parse(info.out);
    EXPECT_TRUE(described["complete"].get<bool>());
    const Json node = node_check(path);
    ASSERT_TRUE(node.is_object());
    EXPECT_TRUE(node["leadingMagic"].get<bool>());
    EXPECT_TRUE(node["trailingMagic"].get<bool>());
    EXPECT_TRUE(node["complete"].get<bool>());
    EXPECT_FALSE(node.contains("logTimeDecreases"));
    EXPECT_EQ(node["messages"], recorder_counts.at("*"));
    EXPECT_EQ(node["messages"], described["messages"]);
    EXPECT_EQ(node["indexedMessages"], node["messages"]);
    EXPECT_EQ(node["statistics"]["messageCount"], node["messages"]);
    EXPECT_EQ(node["statistics"]["chunkCount"], described["chunks"]);
    EXPECT_EQ(node["indexedChunks"], described["chunks"]);
    EXPECT_EQ(node["statistics"]["channelCount"], described["channels"].size());
    EXPECT_EQ(node["statistics"]["metadataCount"], 2);
    for (const Json& channel : described["channels"]) {
      const std::string id = std::to_string(channel["id"].get<int>());
      const std::string topic = channel["topic"];
      EXPECT_EQ(node["channels"][id]["topic"], topic);
      EXPECT_EQ(node["channels"][id]["count"], channel["messages"]) << topic;
      EXPECT_EQ(node["statistics"]["channelMessageCounts"][id], channel["messages"]) << topic;
      EXPECT_EQ(channel["messages"], recorder_counts.at(topic)) << topic;
      EXPECT_GT(channel["messages"].get<long long>(), 0) << topic;
    }
  }

  // Replays `path` in a loop into shmsnap-subscriber --json and checks that every
  // refresh of each topic equals the recorded message its sequence names (seq n of
  // the replay is recorded message (n-1) mod N), through two full passes.
  void expect_replay_identical(const std::string& path, const std::vector<std::string>& topics,
                               std::vector<std::string> replay_extra) {
    const Scanned scanned = scan_file(path);
    std::map<std::string, std::vector<Json>> recorded;
    for (const std::string& topic : topics) {
      recorded[topic] = decoded(scanned, topic);
      ASSERT_FALSE(recorded[topic].empty()) << topic;
    }
    ChildProcess& subscriber = daemon(topics, "check");
    std::vector<std::string> arguments{"replay", path, "--prefix", prefix_, "--loop"};
    arguments.insert(arguments.end(), replay_extra.begin(), replay_extra.end());
    ChildProcess& replay = launch("shmsnap", arguments);
    std::map<std::string, std::uint64_t> last_seq;
    std::map<std::string, bool> second_pass_end_seen;
    std::size_t done = 0;
    while (done < topics.size()) {
      const auto line = next_json(subscriber, is_refresh);
      ASSERT_TRUE(line.has_value()) << "no refresh from the replay; replay said: " << replay.output();
      const std::string topic = (*line)["topic"];
      const auto seq = (*line)["seq"].get<std::uint64_t>();
      const auto& messages = recorded.at(topic);
      ASSERT_GT(seq, last_seq[topic]) << "refreshes out of order on " << topic;
      last_seq[topic] = seq;
      ASSERT_EQ((*line)["data"], messages[(seq - 1) % messages.size()]) << topic << " seq " << seq;
      if (seq >= 2 * messages.size() && !second_pass_end_seen[topic]) {
        second_pass_end_seen[topic] = true;
        ++done;
      }
    }
    replay.signal(SIGINT);
    EXPECT_EQ(replay.wait_exit(patience), 0);
    subscriber.signal(SIGTERM);
    EXPECT_EQ(subscriber.wait_exit(patience), 0);
  }

  TempDir dir_;
};

TEST_F(RecordingTest, RawRecordingReadsEverywhereAndReplaysIdentically) {
  const std::string path = dir_.file("raw.mcap");
  const auto counts = record_pose_and_health(path);
  expect_consistent(path, counts);
  // A raw channel's schema record is the region's descriptor: units and descriptions included.
  const mcap::MappedFile file(path);
  std::map<std::string, Json> descriptors;
  (void)mcap::scan(file.bytes(), path, [&](const mcap::Schema* schema, const mcap::Channel&, const mcap::Message&) {
    if (schema != nullptr && descriptors.count(schema->name) == 0)
      descriptors.emplace(schema->name, Json::parse(schema->data));
    return true;
  });
  ASSERT_EQ(descriptors.count("robot.pose"), 1U);
  EXPECT_EQ(shmsnap::SnapshotCodec(descriptors["robot.pose"].dump()).field_notes()["position.x"]["unit"], "m");
  expect_replay_identical(path, {"pose", "health"}, {"--speed", "4"});
}

TEST_F(RecordingTest, JsonRecordingValidatesAgainstItsJsonSchemaAndReplays) {
  const std::string path = dir_.file("json.mcap");
  ChildProcess& rec = recorder(path, {"book", "--encoding", "json", "--compression", "lz4"});
  ChildProcess& book =
      publisher("book", "market.quote_book", {"--rate", "200", "--count", "200", "--wait-subscribers", "1"});
  ASSERT_TRUE(book.wait_for_line("done", patience));
  ASSERT_EQ(book.wait_exit(patience), 0);
  const auto counts = stop_recorder(rec);
  expect_consistent(path, counts);

  // Every message against its channel's schema, both as @mcap/core read them.
  const std::string dump = dir_.file("dump");
  std::filesystem::create_directories(dump);
  const Json node = node_check(path, {"--dump-json", dump});
  ASSERT_TRUE(node.is_object());
  const std::string script =
      "import json, sys, jsonschema\n"
      "schema = json.load(open(sys.argv[1]))\n"
      "jsonschema.validators.validator_for(schema).check_schema(schema)\n"
      "validator = jsonschema.validators.validator_for(schema)(schema)\n"
      "instances = json.load(open(sys.argv[2]))\n"
      "bad = [e.message for i in instances for e in validator.iter_errors(i)]\n"
      "print('checked', len(instances), 'invalid', len(bad), bad[:3])\n";
  ChildProcess python({SHMSNAP_SYSTEM_PYTHON, "-c", script, dump + "/0.schema.json", dump + "/0.instances.json"});
  const auto verdict = python.read_line(patience);
  ASSERT_TRUE(verdict.has_value());
  EXPECT_EQ(python.wait_exit(patience), 0);
  EXPECT_EQ(*verdict, "checked " + std::to_string(counts.at("book")) + " invalid 0 []");
  // The JSON Schema record says what the numbers mean, as Foxglove shows it.
  const Json schema = Json::parse(std::ifstream(dump + "/0.schema.json"));
  EXPECT_EQ(schema["properties"]["exchange_time_ns"]["unit"], "ns") << schema.dump(2);
  EXPECT_EQ(schema["properties"]["bid_size"]["description"], "Quantity resting at each bid level. (unit: contracts)")
      << schema.dump(2);

  expect_replay_identical(path, {"book"}, {"--max"});
}

TEST_F(RecordingTest, AllFollowsTopicsThatAppearWhileRecording) {
  const std::string path = dir_.file("all.mcap");
  ChildProcess& rec = recorder(path, {"--all", "--compression", "none"});
  ChildProcess& late = publisher("late", "robot.pose", {"--rate", "100"});
  ASSERT_TRUE(late.wait_for_line("ready", patience));
  ASSERT_TRUE(rec.wait_for_line("shmsnap record: following 'late'", patience));
  // The publisher's first stats line comes a second (about 100 publishes) after it
  // started, so the recorder has had refreshes to record.
  ASSERT_TRUE(late.wait_for_line("stats", patience));
  late.signal(SIGINT);
  ASSERT_EQ(late.wait_exit(patience), 0);
  const auto counts = stop_recorder(rec);
  ASSERT_GT(counts.at("late"), 0);
  expect_consistent(path, counts);
}

TEST_F(RecordingTest, AllInSocketModeRecordsTheTopicsOfASocketDirectory) {
  const SocketDirectory sockets;
  const std::string path = dir_.file("sockets.mcap");
  ChildProcess& rec = recorder(path, {"--all", "--socket-dir", sockets.path(), "--compression", "none"});
  // Publishes only once the recorder attached through its socket.
  ChildProcess& pose =
      publisher("pose", "robot.pose",
                {"--socket-dir", sockets.path(), "--rate", "200", "--count", "100", "--wait-subscribers", "1"});
  ASSERT_TRUE(rec.wait_for_line("shmsnap record: following 'pose'", patience)) << rec.output();
  ASSERT_TRUE(pose.wait_for_line("done", patience)) << pose.output();
  ASSERT_EQ(pose.wait_exit(patience), 0);
  const auto counts = stop_recorder(rec);
  ASSERT_GT(counts.at("pose"), 0);
  expect_consistent(path, counts);
  for (const Json& value : decoded(scan_file(path), "pose")) {
    EXPECT_EQ(value["frame_id"], "pose");
  }
}

TEST_F(RecordingTest, KilledRecorderReadsToLastCompleteChunkAndRecovers) {
  const std::string path = dir_.file("killed.mcap");
  ChildProcess& rec = recorder(path, {"pose", "--chunk-size", "4096"});
  ChildProcess& pose = publisher("pose", "robot.pose", {"--rate", "500"});
  ASSERT_TRUE(rec.wait_for_line("shmsnap record: following 'pose'", patience));
  // Wait until several chunks are on disk, then kill without warning.
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (std::filesystem::file_size(path) < 40'000 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  rec.signal(SIGKILL);
  ASSERT_TRUE(rec.wait_exit(patience).has_value());
  pose.signal(SIGINT);
  ASSERT_EQ(pose.wait_exit(patience), 0);

  const Scanned ours = scan_file(path);
  EXPECT_FALSE(ours.result.complete);
  EXPECT_FALSE(ours.result.truncation.empty());
  ASSERT_GT(ours.result.counted.message_count, 0U);
  const Json node = node_check(path, {"--partial"});
  ASSERT_TRUE(node.is_object());
  EXPECT_FALSE(node["complete"].get<bool>());
  EXPECT_EQ(node["messages"], ours.result.counted.message_count);

  const std::string recovered = dir_.file("recovered.mcap");
  const CliResult result = admin({"record", "--recover", path, recovered});
  ASSERT_EQ(result.code, 0) << result.err;
  const Json fixed = node_check(recovered);
  ASSERT_TRUE(fixed.is_object());
  EXPECT_TRUE(fixed["complete"].get<bool>());
  EXPECT_EQ(fixed["messages"], ours.result.counted.message_count);
  EXPECT_EQ(fixed["statistics"]["messageCount"], ours.result.counted.message_count);
  EXPECT_EQ(fixed["indexedMessages"], ours.result.counted.message_count);
  EXPECT_EQ(decoded(scan_file(recovered), "pose"), decoded(ours, "pose"));
}

// A full disk, simulated by a file size limit (RLIMIT_FSIZE): writes fail with EFBIG
// exactly as they would with ENOSPC. The recorder must stop with a clear error and
// leave a file that readers accept up to its last complete chunk.
TEST_F(RecordingTest, FullDiskGivesClearErrorAndAFileFinishedAtItsLastCompleteChunk) {
  const std::string path = dir_.file("full.mcap");
  ChildProcess& pose = publisher("pose", "robot.pose", {"--rate", "500"});
  ASSERT_TRUE(pose.wait_for_line("ready", patience));
  children_.emplace_back(std::make_unique<ChildProcess>(std::vector<std::string>{
      "/bin/sh", "-c", "exec /usr/bin/prlimit --fsize=120000 -- \"$0\" \"$@\" 2>&1", bin_dir() + "/shmsnap", "record",
      "-o", path, "--prefix", prefix_, "--chunk-size", "16384", "pose"}));
  ChildProcess& rec = *children_.back();
  const auto code = rec.wait_exit(patience);
  pose.signal(SIGINT);
  ASSERT_EQ(pose.wait_exit(patience), 0);
  ASSERT_TRUE(code.has_value()) << "the recorder did not stop at the size limit";
  while (rec.read_line(1s)) {
  }
  EXPECT_EQ(*code, 1) << rec.output();
  EXPECT_NE(rec.output().find("cannot write " + path), std::string::npos) << rec.output();
  EXPECT_NE(rec.output().find("last complete chunk"), std::string::npos) << rec.output();
  EXPECT_LE(std::filesystem::file_size(path), 120000U);

  const Scanned ours = scan_file(path);
  ASSERT_GT(ours.result.counted.message_count, 0U);
  const Json partial = node_check(path, {"--partial"});
  ASSERT_TRUE(partial.is_object());
  EXPECT_EQ(partial["messages"], ours.result.counted.message_count);
  if (ours.result.complete) {  // the summary fitted after the last complete chunk
    const Json node = node_check(path);
    ASSERT_TRUE(node.is_object());
    EXPECT_EQ(node["statistics"]["messageCount"], ours.result.counted.message_count);
    EXPECT_EQ(node["indexedMessages"], ours.result.counted.message_count);
  }
}

TEST_F(RecordingTest, FilesCutAtRandomOffsetsReadUpToTheirLastCompleteChunk) {
  const std::string path = dir_.file("whole.mcap");
  ChildProcess& rec = recorder(path, {"pose", "--chunk-size", "8192"});
  ChildProcess& pose = publisher("pose", "robot.pose", {"--rate", "500", "--count", "400", "--wait-subscribers", "1"});
  ASSERT_TRUE(pose.wait_for_line("done", patience));
  ASSERT_EQ(pose.wait_exit(patience), 0);
  const auto counts = stop_recorder(rec);
  const std::string whole = [&] {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  const Scanned full = scan_file(path);
  ASSERT_TRUE(full.result.complete);
  ASSERT_GT(full.result.counted.chunk_count, 3U);

  std::mt19937 random(7);
  std::uniform_int_distribution<std::size_t> offset(8, whole.size() - 1);
  std::uint64_t previous_best = 0;
  std::vector<std::size_t> cuts;
  for (int i = 0; i < 60; ++i)
    cuts.push_back(offset(random));
  std::sort(cuts.begin(), cuts.end());
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    const std::string cut_path = dir_.file("cut.mcap");
    std::ofstream(cut_path, std::ios::binary | std::ios::trunc)
        .write(whole.data(), static_cast<std::streamsize>(cuts[i]));
    const Scanned cut = scan_file(cut_path);
    EXPECT_FALSE(cut.result.complete) << cuts[i];
    // A longer prefix never yields fewer messages, and never more than the whole.
    EXPECT_GE(cut.result.counted.message_count, previous_best) << cuts[i];
    EXPECT_LE(cut.result.counted.message_count, full.result.counted.message_count);
    previous_best = cut.result.counted.message_count;
    // The messages are a prefix of the whole file's, whole chunks at a time.
    for (std::size_t m = 0; m < cut.messages.size(); ++m)
      ASSERT_EQ(cut.messages[m].data, full.messages[m].data);
    if (i % 6 == 0) {  // the reference reader on a sample (each run starts node)
      const Json node = node_check(cut_path, {"--partial"});
      ASSERT_TRUE(node.is_object());
      EXPECT_EQ(node["messages"], cut.result.counted.message_count) << "cut at " << cuts[i];
    }
  }
  EXPECT_EQ(counts.at("*"), static_cast<long long>(full.result.counted.message_count));
}

TEST_F(RecordingTest, MalformedFilesGiveClearErrorsInInfoReplayAndRecover) {
  const std::string good = dir_.file("good.mcap");
  ChildProcess& rec = recorder(good, {"pose"});
  ChildProcess& pose = publisher("pose", "robot.pose", {"--rate", "200", "--count", "100", "--wait-subscribers", "1"});
  ASSERT_TRUE(pose.wait_for_line("done", patience));
  ASSERT_EQ(pose.wait_exit(patience), 0);
  (void)stop_recorder(rec);
  const std::string bytes = [&] {
    std::ifstream in(good, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();

  std::map<std::string, std::string> files;
  files["empty"] = "";
  files["text"] = "this is not an mcap file at all\n";
  files["bad_header"] = std::string(mcap::magic) + std::string(40, '\x07');
  std::string flipped = bytes;
  flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 0x5a);  // inside the chunk
  files["flipped_chunk_byte"] = flipped;
  std::string huge = std::string(mcap::magic);
  huge += '\x01';
  huge += std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8);
  files["huge_length"] = huge + std::string(64, '\0');

  for (const auto& [name, content] : files) {
    const std::string path = dir_.file(name + ".mcap");
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(content.data(), static_cast<std::streamsize>(content.size()));
    for (const std::vector<std::string>& command :
         std::vector<std::vector<std::string>>{{"info", path},
                                               {"replay", path, "--prefix", prefix_, "--max"},
                                               {"record", "--recover", path, dir_.file("out.mcap")}}) {
      ChildProcess& child = launch("shmsnap", command, true);
      const auto code = child.wait_exit(patience);
      ASSERT_TRUE(code.has_value()) << name << ": " << command[0] << " hangs";
      EXPECT_TRUE(*code == 1 || *code == 2) << name << ": " << command[0] << " exited " << *code << "\n"
                                            << child.output();
      EXPECT_NE(child.output().find("shmsnap: "), std::string::npos) << name << ": " << child.output();
    }
  }
}

// --topic, --start and --end select exactly the messages they name.
TEST_F(RecordingTest, ReplaySelectsTopicsAndTimeRanges) {
  const std::string path = dir_.file("select.mcap");
  const auto counts = record_pose_and_health(path);

  std::vector<std::uint64_t> log_times;
  const mcap::MappedFile file(path);
  (void)mcap::scan(file.bytes(), path, [&](const mcap::Schema*, const mcap::Channel&, const mcap::Message& message) {
    log_times.push_back(message.log_time);
    return true;
  });
  ASSERT_FALSE(log_times.empty());
  const auto replayed = [&](std::vector<std::string> extra) {
    std::vector<std::string> arguments{"replay", path, "--prefix", prefix_, "--max"};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    const CliResult result = admin(arguments);
    EXPECT_EQ(result.code, 0) << result.err;
    const auto at = result.out.find("replayed ");
    return at == std::string::npos ? -1 : field(result.out.substr(at), "published").value_or(-1);
  };
  EXPECT_EQ(replayed({"--topic", "health"}), counts.at("health"));
  EXPECT_EQ(replayed({"--topic", "pose", "--topic", "health"}), counts.at("*"));
  const double start = 0.3;
  const double end = 0.9;
  long long in_range = 0;
  for (const std::uint64_t time : log_times) {
    const double offset = static_cast<double>(time - log_times.front()) / 1e9;
    in_range += offset >= start && offset <= end ? 1 : 0;
  }
  ASSERT_GT(in_range, 0);
  EXPECT_EQ(replayed({"--start", "0.3", "--end", "0.9"}), in_range);
}

// A topic whose publisher comes back with another schema continues on a new
// channel; replay switches its publisher at the same point.
TEST_F(RecordingTest, APublisherRestartedWithAnotherSchemaGetsANewChannel) {
  const std::string path = dir_.file("switch.mcap");
  ChildProcess& rec = recorder(path, {"t"});
  // Each publisher runs until its stats line shows the recorder attached, so both
  // schemas are recorded however slowly the recorder re-attaches.
  const auto run_until_recorded = [&](const std::string& schema) {
    ChildProcess& child = publisher("t", schema, {"--rate", "100"});
    const auto deadline = std::chrono::steady_clock::now() + patience;
    bool attached = false;
    while (!attached && std::chrono::steady_clock::now() < deadline) {
      const auto line = child.wait_for_line("stats", patience);
      ASSERT_TRUE(line.has_value());
      attached = field(*line, "subscribers").value_or(0) >= 1;
    }
    ASSERT_TRUE(attached);
    child.signal(SIGINT);
    ASSERT_EQ(child.wait_exit(patience), 0);
  };
  run_until_recorded("robot.pose");
  run_until_recorded("service.health");
  const auto counts = stop_recorder(rec);

  const Json node = node_check(path);
  ASSERT_TRUE(node.is_object());
  std::vector<std::string> schemas;
  long long total = 0;
  for (const auto& [id, channel] : node["channels"].items()) {
    EXPECT_EQ(channel["topic"], "t");
    schemas.push_back(node["schemas"][std::to_string(channel["schemaId"].get<int>())]["name"]);
    total += channel["count"].get<long long>();
  }
  EXPECT_EQ(schemas, (std::vector<std::string>{"robot.pose", "service.health"}));
  EXPECT_EQ(total, counts.at("t"));
  EXPECT_EQ(node["statistics"]["messageCount"], counts.at("*"));

  const CliResult replayed = admin({"replay", path, "--prefix", prefix_, "--max"});
  ASSERT_EQ(replayed.code, 0) << replayed.err;
  EXPECT_NE(replayed.out.find("publishing 't' (robot.pose"), std::string::npos) << replayed.out;
  EXPECT_NE(replayed.out.find("publishing 't' (service.health"), std::string::npos) << replayed.out;
  EXPECT_NE(replayed.out.find("replayed published=" + std::to_string(counts.at("*"))), std::string::npos)
      << replayed.out;
}

TEST_F(RecordingTest, ReplayRefusesATopicWithALivePublisher) {
  const std::string path = dir_.file("busy.mcap");
  ChildProcess& rec = recorder(path, {"pose"});
  ChildProcess& first = publisher("pose", "robot.pose", {"--rate", "200", "--count", "50", "--wait-subscribers", "1"});
  ASSERT_TRUE(first.wait_for_line("done", patience));
  ASSERT_EQ(first.wait_exit(patience), 0);
  (void)stop_recorder(rec);
  ChildProcess& live = publisher("pose", "robot.pose", {"--rate", "20"});
  ASSERT_TRUE(live.wait_for_line("ready", patience));
  ChildProcess& replay = launch("shmsnap", {"replay", path, "--prefix", prefix_, "--max"}, true);
  const auto code = replay.wait_exit(patience);
  while (replay.read_line(1s)) {
  }
  EXPECT_EQ(code, 3) << replay.output();
  EXPECT_NE(replay.output().find("live publisher"), std::string::npos) << replay.output();
  live.signal(SIGINT);
  EXPECT_EQ(live.wait_exit(patience), 0);
}

// A SIGKILLed recorder loses at most its chunk interval (1 s by default) however big
// the chunk size: chunks close on time as well as on size. Three kills at random
// moments, each of a fresh recording of a 100 Hz and a 10 Hz topic.
TEST_F(RecordingTest, KilledRecorderLosesAtMostItsChunkInterval) {
  constexpr double interval_s = 1.0;  // the default --chunk-interval
  constexpr double slack_s = 2.0;     // compression, write and scheduling on a loaded 2-core box
  ChildProcess& fast = publisher("fast", "robot.pose", {"--rate", "100"});
  ChildProcess& slow = publisher("slow", "service.health", {"--rate", "10"});
  ASSERT_TRUE(fast.wait_for_line("ready", patience)) << fast.output();
  ASSERT_TRUE(slow.wait_for_line("ready", patience)) << slow.output();
  std::mt19937 random(std::random_device{}());
  std::uniform_real_distribution<double> kill_after_s(1.5, 4.0);
  for (int round = 0; round < 3; ++round) {
    const std::string path = dir_.file("killed" + std::to_string(round) + ".mcap");
    ChildProcess& rec = recorder(path, {"fast", "slow"});
    ASSERT_TRUE(rec.wait_for_line("shmsnap record: following 'fast'", patience)) << rec.output();
    ASSERT_TRUE(rec.wait_for_line("shmsnap record: following 'slow'", patience)) << rec.output();
    const double after_s = kill_after_s(random);
    std::this_thread::sleep_for(std::chrono::duration<double>(after_s));  // the random kill point
    const std::int64_t killed_at = realtime_ns();
    rec.signal(SIGKILL);
    ASSERT_TRUE(rec.reap(patience).has_value());
    const std::string context =
        "round " + std::to_string(round) + ", killed " + std::to_string(after_s) + " s after following both topics";

    const std::string recovered = dir_.file("recovered" + std::to_string(round) + ".mcap");
    const CliResult result = admin({"record", "--recover", path, recovered});
    ASSERT_EQ(result.code, 0) << result.err;
    const Scanned killed = scan_file(path);
    const Scanned got = scan_file(recovered);
    ASSERT_TRUE(got.result.complete) << context;
    EXPECT_EQ(got.result.counted.message_count, killed.result.counted.message_count) << context;
    ASSERT_GT(got.result.counted.message_count, 0U) << context << ": the killed recorder left nothing";

    // Everything but the last interval is there.
    const double lost_s =
        static_cast<double>(killed_at - static_cast<std::int64_t>(got.result.counted.message_end_time)) / 1e9;
    EXPECT_LE(lost_s, interval_s + slack_s) << context;
    EXPECT_GE(lost_s, -0.5) << context << ": a message logged after the kill";

    // The counts agree with the rates (generous: latest-value conflation under load).
    std::map<std::string, double> count;
    for (const Recorded& message : got.messages)
      count[message.topic] += 1;
    const double span_s =
        static_cast<double>(got.result.counted.message_end_time - got.result.counted.message_start_time) / 1e9;
    EXPECT_GE(span_s, 0.5) << context;
    ASSERT_GE(count["slow"], 1) << context;
    ASSERT_GE(count["fast"], 1) << context;
    EXPECT_LE(count["fast"], 100 * span_s * 1.5 + 10) << context;
    EXPECT_LE(count["slow"], 10 * span_s * 1.5 + 3) << context;
    EXPECT_GE(count["fast"], 100 * span_s * 0.1) << context;
    const double ratio = count["fast"] / count["slow"];
    EXPECT_GE(ratio, 2) << context << " fast=" << count["fast"] << " slow=" << count["slow"];
    EXPECT_LE(ratio, 40) << context << " fast=" << count["fast"] << " slow=" << count["slow"];
  }
  fast.signal(SIGINT);
  slow.signal(SIGINT);
  EXPECT_EQ(fast.wait_exit(patience), 0);
  EXPECT_EQ(slow.wait_exit(patience), 0);
}

// The time bound holds when nothing more arrives: the recorder wakes for the
// chunk's deadline, not only for data, so a quiet topic's last message reaches the
// file within --chunk-interval.
TEST_F(RecordingTest, AQuietTopicsLastMessageReachesTheFileWithinTheChunkInterval) {
  constexpr double interval_s = 0.5;
  constexpr double slack_s = 2.5;
  const std::string path = dir_.file("quiet.mcap");
  ChildProcess& rec = recorder(path, {"quiet", "--chunk-interval", "0.5"});
  ChildProcess& quiet =
      publisher("quiet", "service.health", {"--rate", "10", "--count", "3", "--wait-subscribers", "1"});
  ASSERT_TRUE(quiet.wait_for_line("done", patience)) << quiet.output();
  const auto done = std::chrono::steady_clock::now();
  const auto holds_last = [&] {
    const Scanned scanned = scan_file(path);
    return std::any_of(scanned.messages.begin(), scanned.messages.end(),
                       [](const Recorded& message) { return message.sequence == 3; });
  };
  bool found = holds_last();
  while (!found && std::chrono::steady_clock::now() < done + patience) {
    std::this_thread::sleep_for(20ms);
    found = holds_last();
  }
  const double took_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - done).count();
  ASSERT_TRUE(found) << "the last message never reached the file while the recorder ran";
  EXPECT_LE(took_s, interval_s + slack_s);
  ASSERT_EQ(quiet.wait_exit(patience), 0);
  (void)stop_recorder(rec);
}

// README: an empty prefix is refused everywhere rather than meaning the default
// namespace; record, replay and serve say so like the other tools, before doing anything.
TEST_F(RecordingTest, AnEmptyPrefixIsRefusedByRecordReplayAndServe) {
  const std::string output = dir_.file("empty_prefix.mcap");
  const std::vector<std::vector<std::string>> commands{
      {"record", "-o", output, "--prefix", "", "--duration", "0.5", "pose"},
      {"replay", dir_.file("missing.mcap"), "--prefix", "", "--max"},
      {"serve", "--prefix", "", "--listen", "127.0.0.1:0"}};
  for (const auto& command : commands) {
    ChildProcess& child = launch("shmsnap", command, true);
    const auto code = child.wait_exit(patience);
    ASSERT_TRUE(code.has_value()) << command[0] << " ran on with an empty prefix";
    EXPECT_EQ(*code, 2) << command[0] << ": " << child.output();
    EXPECT_NE(child.output().find("an empty prefix would silently mean the default namespace"), std::string::npos)
        << command[0] << ": " << child.output();
  }
  EXPECT_FALSE(std::filesystem::exists(output));
}

// Strings in a file reach neither JSON as invalid UTF-8 nor a terminal as control
// characters: info --json is valid JSON with one U+FFFD per invalid byte, text info
// and replay's errors escape what they quote.
TEST_F(RecordingTest, HostileStringsInAFileAreEscapedByInfoAndReplay) {
  const std::string topic = "t\x1b]0;owned\x07\xfe\xc3";
  const std::string schema_name = "pose\x1b[31m\xff";
  const std::string hostile = dir_.file("hostile.mcap");
  write_crafted(hostile, topic, "shmsnap.raw", {{"k\x1b", "v\xff\x1b[2J"}}, schema_name);

  ChildProcess& json_info = launch("shmsnap", {"info", hostile, "--json"});
  ASSERT_EQ(json_info.wait_exit(patience), 0) << json_info.output();
  const Json described = Json::parse(json_info.output());
  ASSERT_EQ(described["channels"].size(), 1U);
  EXPECT_EQ(described["channels"][0]["topic"], "t\x1b]0;owned\x07\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(described["channels"][0]["schema"], "pose\x1b[31m\xef\xbf\xbd");
  EXPECT_EQ(described["channels"][0]["schema_encoding"], "shmsnap.descriptor\xef\xbf\xbd");
  EXPECT_EQ(described["library"], "lib\xef\xbf\xbd\x1b[2J");
  EXPECT_EQ(described["metadata"][0]["name"], "meta\x1b\xef\xbf\xbd");
  EXPECT_EQ(described["metadata"][0]["metadata"]["key\x1b[31m"], "value\xef\xbf\xbd(\x07");

  ChildProcess& text_info = launch("shmsnap", {"info", hostile}, true);
  ASSERT_EQ(text_info.wait_exit(patience), 0) << text_info.output();
  EXPECT_EQ(first_unsafe_byte(text_info.output()), std::string::npos) << text_info.output();
  EXPECT_NE(text_info.output().find("t\\x1b]0;owned\\x07"), std::string::npos) << text_info.output();

  // One file per replay error that quotes the file: topic, encoding, metadata, descriptor.
  const mcap::StringMap fine{
      {"shmsnap.fingerprint", "1"}, {"shmsnap.descriptor", "{}"}, {"shmsnap.schema_name", "x"}, {"shmsnap.size", "4"}};
  std::map<std::string, std::string> files{{"topic", hostile}};
  const auto craft = [&](const std::string& name, const std::string& encoding, mcap::StringMap metadata) {
    files[name] = dir_.file(name + ".mcap");
    write_crafted(files[name], "fine", encoding, std::move(metadata), "x");
  };
  craft("encoding", "raw\x1b[31m\xff", fine);
  mcap::StringMap bad_number = fine;
  bad_number["shmsnap.fingerprint"] = "\x1b[2J\xff";
  craft("number", "shmsnap.raw", bad_number);
  mcap::StringMap bad_descriptor = fine;
  bad_descriptor["shmsnap.descriptor"] = "\x1b[31m\x9b\xff{";
  craft("descriptor", "shmsnap.raw", bad_descriptor);
  files["topic_name"] = dir_.file("topic_name.mcap");
  write_crafted(files["topic_name"], topic, "shmsnap.raw", fine, "x");
  for (const auto& [what, path] : files) {
    ChildProcess& replay = launch("shmsnap", {"replay", path, "--prefix", prefix_, "--max"}, true);
    const auto code = replay.wait_exit(patience);
    ASSERT_TRUE(code.has_value()) << what;
    EXPECT_EQ(*code, 2) << what << ": " << replay.output();
    EXPECT_NE(replay.output().find("shmsnap: "), std::string::npos) << what << ": " << replay.output();
    EXPECT_EQ(first_unsafe_byte(replay.output()), std::string::npos) << what << ": " << replay.output();
  }
}

// log_time comes from the file: two messages 1.4e19 ns apart (beyond INT64_MAX) must
// make replay wait (until stopped). The unchecked conversion was undefined behaviour
// that the dev build happens to turn into a wait (two wraps); under the asan-ubsan
// preset (-fno-sanitize-recover) it aborted the replay, which this test then catches.
TEST_F(RecordingTest, ReplayOfMessagesCenturiesApartWaitsInsteadOfOverflowing) {
  const std::string real = dir_.file("real.mcap");
  ChildProcess& rec = recorder(real, {"pose"});
  ChildProcess& pose = publisher("pose", "robot.pose", {"--rate", "100", "--count", "2", "--wait-subscribers", "1"});
  ASSERT_TRUE(pose.wait_for_line("done", patience));
  ASSERT_EQ(pose.wait_exit(patience), 0);
  (void)stop_recorder(rec);

  const std::string far = dir_.file("far.mcap");
  {
    // The first recorded message, twice: at 1 us and 1.4e19 ns later.
    const mcap::MappedFile file(real);
    mcap::Writer writer(far, mcap::WriterOptions{.compression = mcap::Compression::none, .background = false});
    const auto result = mcap::scan(
        file.bytes(), real,
        [&](const mcap::Schema* schema, const mcap::Channel& channel, const mcap::Message& message) {
          const std::uint16_t schema_id = writer.add_schema(schema->name, schema->encoding, schema->data);
          const std::uint16_t channel_id =
              writer.add_channel(schema_id, channel.topic, channel.message_encoding, channel.metadata);
          for (const std::uint64_t log_time : {1'000ULL, 1'000ULL + (1ULL << 63) + (1ULL << 62)})
            writer.add_message(mcap::Message{channel_id, message.sequence, log_time, log_time, message.data});
          return false;
        });
    ASSERT_TRUE(result.stopped);
    writer.finish();
  }
  ChildProcess& replay = launch("shmsnap", {"replay", far, "--prefix", prefix_});
  ASSERT_TRUE(replay.wait_for_line("shmsnap replay: publishing 'pose'", patience)) << replay.output();
  // The second message is 440 years away: the replay must still be waiting for it.
  EXPECT_FALSE(replay.reap(2s).has_value()) << "replay did not wait for the far message";
  replay.signal(SIGINT);
  ASSERT_EQ(replay.wait_exit(patience), 0);
  EXPECT_NE(replay.output().find("replayed published=1 "), std::string::npos) << replay.output();
}

// Copies `channel`'s schema and channel from `source` into `path` with one message
// whose data is `data`: a file the recorder would not write.
void write_with_message(const std::string& source, const std::string& path, const std::string& data) {
  const mcap::MappedFile file(source);
  mcap::Writer writer(path, mcap::WriterOptions{.compression = mcap::Compression::none, .background = false});
  const auto result = mcap::scan(
      file.bytes(), source,
      [&](const mcap::Schema* schema, const mcap::Channel& channel, const mcap::Message& message) {
        const std::uint16_t schema_id = writer.add_schema(schema->name, schema->encoding, schema->data);
        const std::uint16_t channel_id =
            writer.add_channel(schema_id, channel.topic, channel.message_encoding, channel.metadata);
        writer.add_message(mcap::Message{channel_id, message.sequence, message.log_time, message.publish_time, data});
        return false;
      });
  ASSERT_TRUE(result.stopped);
  writer.finish();
}

// Issue 22: a bounded sequence publishes only its elements in use, and the recorder
// carries only that: each MCAP message is as long as its publish's used length (our
// reader and @mcap/core agree), and a replay republishes every message with that
// used length, byte for byte, zeros past it. Messages outside the schema's
// min_size..size are refused naming the channel, the length and the range.
TEST_F(RecordingTest, VariableSizeTopicRecordsAndReplaysOnlyItsUsedBytes) {
  using sensor::PointCloud;
  const std::string path = dir_.file("cloud.mcap");
  ChildProcess& rec = recorder(path, {"cloud", "--chunk-interval", "0.1", "--compression", "none"});
  std::map<std::uint32_t, std::size_t> used_of_seq;
  {
    auto publisher = Publisher<PointCloud>::create("cloud", {.prefix = prefix_});
    ASSERT_TRUE(rec.wait_for_line("shmsnap record: following 'cloud'", patience)) << rec.output();
    auto cloud = std::make_unique<PointCloud>();
    std::memcpy(cloud->frame_id, "lidar", 5);
    for (const std::uint32_t count : {3U, 0U, 1000U, 7U}) {
      cloud->point_count = count;
      for (std::uint32_t i = 0; i < count; ++i)
        cloud->points[i] = {static_cast<float>(i), -static_cast<float>(i), 0.5F, static_cast<float>(count)};
      // The later, shorter publishes leave the earlier points in *cloud: they must
      // not be carried.
      const auto seq = static_cast<std::uint32_t>(publisher.publish(*cloud));
      used_of_seq[seq] = cloud->shmsnap_used_bytes();
      ASSERT_LT(used_of_seq[seq], sizeof(PointCloud));
      // One publish at a time into the file, so none is conflated away.
      const auto deadline = std::chrono::steady_clock::now() + patience;
      const auto holds = [&] {
        const Scanned scanned = scan_file(path);
        return std::any_of(scanned.messages.begin(), scanned.messages.end(),
                           [&](const Recorded& message) { return message.sequence == seq; });
      };
      while (!holds() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
      ASSERT_TRUE(holds()) << "publish " << seq << " never reached the file";
    }
  }
  const auto counts = stop_recorder(rec);
  expect_consistent(path, counts);

  const Scanned scanned = scan_file(path);
  ASSERT_EQ(scanned.messages.size(), used_of_seq.size());
  std::vector<std::string> recorded;
  std::vector<std::size_t> lengths;
  for (const Recorded& message : scanned.messages) {
    ASSERT_EQ(message.data.size(), used_of_seq.at(message.sequence)) << "seq " << message.sequence;
    recorded.push_back(message.data);
    lengths.push_back(message.data.size());
  }
  EXPECT_EQ(recorded[1].size(), offsetof(PointCloud, points));  // no points: min_size
  const Json node = node_check(path);
  ASSERT_TRUE(node.is_object());
  ASSERT_EQ(node["channels"].size(), 1U);
  EXPECT_EQ(node["channels"].begin().value()["lengths"], Json(lengths)) << node.dump();

  // Replay in a loop: replay seq n is recorded message (n-1) mod N.
  ChildProcess& replay = launch("shmsnap", {"replay", path, "--prefix", prefix_, "--loop"}, true);
  ASSERT_TRUE(replay.wait_for_line("shmsnap replay: publishing 'cloud'", patience)) << replay.output();
  std::unique_ptr<UntypedSubscriber> subscriber;
  const auto attach_deadline = std::chrono::steady_clock::now() + patience;
  while (!subscriber && std::chrono::steady_clock::now() < attach_deadline) {
    try {
      subscriber = std::make_unique<UntypedSubscriber>("cloud", &PointCloud::shmsnap_schema,
                                                       SubscriberOptions{.prefix = prefix_});
    } catch (const Error&) {
      std::this_thread::sleep_for(10ms);
    }
  }
  ASSERT_TRUE(subscriber) << replay.output();
  std::set<std::size_t> matched;  // indexes of recorded messages seen replayed
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (matched.size() < recorded.size() && std::chrono::steady_clock::now() < deadline) {
    if (!subscriber->wait(100ms))
      continue;
    const UpdateInfo& info = subscriber->info();
    ASSERT_GE(info.seq, 1U);
    const std::size_t index = (info.seq - 1) % recorded.size();
    const std::string& expected = recorded[index];
    ASSERT_EQ(info.used_bytes, expected.size()) << "replay seq " << info.seq;
    const std::span<const std::byte> bytes = subscriber->bytes();
    ASSERT_EQ(std::memcmp(bytes.data(), expected.data(), expected.size()), 0) << "replay seq " << info.seq;
    ASSERT_TRUE(std::all_of(bytes.begin() + static_cast<std::ptrdiff_t>(expected.size()), bytes.end(),
                            [](std::byte b) { return b == std::byte{0}; }))
        << "replay seq " << info.seq << ": bytes past the used length";
    matched.insert(index);
  }
  EXPECT_EQ(matched.size(), recorded.size()) << replay.output();
  subscriber.reset();
  replay.signal(SIGINT);
  EXPECT_EQ(replay.wait_exit(patience), 0) << replay.output();

  // Outside min_size..size: refused, never read past or cut.
  const std::string range = "sensor.point_cloud snapshots take 44 to 1048624 bytes";
  for (const std::size_t length : {offsetof(PointCloud, points) - 1, sizeof(PointCloud) + 1}) {
    const std::string bad = dir_.file("bad" + std::to_string(length) + ".mcap");
    write_with_message(path, bad, std::string(length, '\0'));
    ChildProcess& refused = launch("shmsnap", {"replay", bad, "--prefix", prefix_, "--max"}, true);
    const auto code = refused.wait_exit(patience);
    while (refused.read_line(1s)) {
    }
    EXPECT_EQ(code, 2) << refused.output();
    EXPECT_NE(refused.output().find("channel 'cloud': a message of " + std::to_string(length) + " bytes, but " + range),
              std::string::npos)
        << refused.output();
  }
}

}  // namespace
}  // namespace shmsnap::test
