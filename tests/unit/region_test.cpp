// Every reader validates a region before touching a payload: garbage, truncated or
// foreign regions give a clear error, never a crash.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <ios>
#include <iterator>
#include <random>

#include "shmsnap/detail/region_layout.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/subscriber.hpp"
#include "support/fixture.hpp"
#include "support/region_tamper.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {
namespace {

using detail::RegionHeader;

class GarbageRegion : public ProcessTest {
 protected:
  void TearDown() override {
    for (const std::string& path : planted_) {
      std::remove(path.c_str());  // the test's own garbage; anything else left is a leak
    }
    ProcessTest::TearDown();
  }

  std::vector<char> valid_region() {
    auto publisher = Publisher<TestSnapshot>::create("valid", {.prefix = prefix_});
    publisher.publish(TestSnapshot{TestSnapshot::make(7)});
    std::ifstream file("/dev/shm/" + prefix_ + ":valid", std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  }

  void plant(const std::string& topic, const std::vector<char>& bytes) {
    planted_.push_back("/dev/shm/" + prefix_ + ":" + topic);
    std::ofstream file(planted_.back(), std::ios::binary);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  std::vector<std::string> planted_;

  template <class Field>
  static void poke(std::vector<char>& bytes, std::size_t offset, Field value) {
    std::memcpy(bytes.data() + offset, &value, sizeof value);
  }

  /// Opening `topic` as a reader and as a subscriber fails with invalid_region
  /// and a message containing `expected`.
  void expect_refused(const std::string& topic, const std::string& expected) {
    try {
      (void)RegionReader::open("/" + prefix_ + ":" + topic);
      ADD_FAILURE() << topic << ": a reader accepted it";
    } catch (const Error& failure) {
      EXPECT_EQ(failure.code(), Errc::invalid_region) << failure.what();
      EXPECT_NE(std::string(failure.what()).find(expected), std::string::npos) << failure.what();
      EXPECT_NE(std::string(failure.what()).find("shmsnap clean"), std::string::npos) << failure.what();
    }
    EXPECT_THROW((void)Subscriber<TestSnapshot>::open(topic, {.prefix = prefix_, .id = "probe"}), Error);
  }
};

TEST_F(GarbageRegion, RandomBytesAreRefused) {
  std::vector<char> bytes(valid_region().size());
  std::mt19937_64 random(12345);
  for (char& byte : bytes) {
    byte = static_cast<char>(random());
  }
  plant("random", bytes);
  expect_refused("random", "not a shmsnap region");
}

TEST_F(GarbageRegion, TruncatedFilesAreRefused) {
  const std::vector<char> valid = valid_region();
  plant("short", std::vector<char>(valid.begin(), valid.begin() + 100));
  expect_refused("short", "truncated");
  plant("half", std::vector<char>(valid.begin(), valid.begin() + static_cast<long>(valid.size() / 2)));
  expect_refused("half", "but the file has");
}

TEST_F(GarbageRegion, WrongMagicAndWrongLayoutVersionAreRefused) {
  std::vector<char> bytes = valid_region();
  poke<std::uint32_t>(bytes, offsetof(RegionHeader, magic), 0xDEADBEEF);
  plant("magic", bytes);
  expect_refused("magic", "magic 0xdeadbeef");
  bytes = valid_region();
  poke<std::uint32_t>(bytes, offsetof(RegionHeader, layout_version), 99);
  plant("version", bytes);
  expect_refused("version", "layout version 99");
}

TEST_F(GarbageRegion, SlotCountOrSizeInconsistentWithTheFileIsRefused) {
  std::vector<char> bytes = valid_region();
  poke<std::uint32_t>(bytes, offsetof(RegionHeader, slot_count), 200);
  plant("slots", bytes);
  expect_refused("slots", "is not the region size");
  bytes = valid_region();
  poke<std::uint32_t>(bytes, offsetof(RegionHeader, slot_count), 0);
  plant("noslots", bytes);
  expect_refused("noslots", "slot count 0");
  bytes = valid_region();
  poke<std::uint32_t>(bytes, offsetof(RegionHeader, payload_size), 4096);
  plant("payload", bytes);
  expect_refused("payload", "does not fit payload size");
  bytes = valid_region();
  poke<std::uint64_t>(bytes, offsetof(RegionHeader, region_size), bytes.size() * 2);
  plant("size", bytes);
  expect_refused("size", "but the file has");
}

TEST_F(GarbageRegion, AValidRegionCopiedElsewhereIsReadable) {
  // Guards the tests above: the unmodified bytes pass, so each refusal is the poke's doing.
  plant("copy", valid_region());
  RegionReader reader = RegionReader::open("/" + prefix_ + ":copy");
  TestSnapshot snapshot{};
  SnapshotMeta meta;
  std::uint64_t retries = 0;
  ASSERT_EQ(reader.try_read(std::as_writable_bytes(std::span(&snapshot, 1)), meta, retries), ReadStatus::ok);
  EXPECT_EQ(snapshot.seq, 7U);
  EXPECT_TRUE(snapshot.intact());
}

TEST_F(GarbageRegion, OriginIdDefaultsToLocalAndRoundTripsInBothModes) {
  constexpr std::uint64_t elsewhere = 0x8badf00ddeadbeefULL;
  {
    auto local = Publisher<TestSnapshot>::create("local", {.prefix = prefix_});
    EXPECT_EQ(RegionReader::open("/" + prefix_ + ":local").origin_id(), 0U);
    auto imported = Publisher<TestSnapshot>::create("imported", {.prefix = prefix_, .origin_id = elsewhere});
    EXPECT_EQ(RegionReader::open("/" + prefix_ + ":imported").origin_id(), elsewhere);
  }
  // Socket mode: the reader is built from the sealed memfd the publisher hands over.
  const SocketDirectory sockets;
  auto imported = Publisher<TestSnapshot>::create(
      "imported", {.prefix = prefix_, .socket_dir = sockets.path(), .origin_id = elsewhere});
  imported.publish(TestSnapshot{TestSnapshot::make(1)});
  UntypedSubscriber subscriber("imported", nullptr,
                               SubscriberOptions{.prefix = prefix_, .id = "probe", .socket_dir = sockets.path()});
  ASSERT_NE(subscriber.region(), nullptr);
  EXPECT_EQ(subscriber.region()->origin_id(), elsewhere);
}

TEST_F(GarbageRegion, AnOriginIdInTheOnceReservedBytesIsReadNotRefused) {
  // Offset 168 was reserved (zero) in layout 2 before the origin id: regions written
  // either way stay valid, and a reader takes whatever is there as the origin.
  std::vector<char> bytes = valid_region();
  poke(bytes, offsetof(RegionHeader, origin_id), std::uint64_t{42});
  plant("stamped", bytes);
  EXPECT_EQ(RegionReader::open("/" + prefix_ + ":stamped").origin_id(), 42U);
}

TEST_F(GarbageRegion, ASubscriberOfAnotherSchemaGetsATypedMismatchNamingBoth) {
  auto publisher = Publisher<LargeSnapshot>::create("large", {.prefix = prefix_});
  try {
    (void)Subscriber<TestSnapshot>::open("large", {.prefix = prefix_, .id = "wrong"});
    FAIL() << "a TestSnapshot subscriber attached to a LargeSnapshot topic";
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::schema_mismatch);
    EXPECT_NE(std::string(failure.what()).find("test.checked v1"), std::string::npos) << failure.what();
    EXPECT_NE(std::string(failure.what()).find("test.large v1"), std::string::npos) << failure.what();
  }
}

TEST_F(GarbageRegion, ARegionLargerThanFreeShmIsRefusedAtCreateNamingShmSize) {
  static constexpr SchemaInfo huge{"test.huge", 1, 0x1234, std::size_t{1} << 30, "{}"};
  try {
    UntypedPublisher publisher("huge", huge, huge.size, {.prefix = prefix_, .slot_count = 200});
    FAIL() << "a 200 GiB region was created";
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::out_of_space);
    EXPECT_NE(std::string(failure.what()).find("--shm-size"), std::string::npos) << failure.what();
  }
}

TEST_F(GarbageRegion, InvalidTopicAndSubscriberNamesAreRefused) {
  EXPECT_THROW((void)Publisher<TestSnapshot>::create("../escape", {.prefix = prefix_}), Error);
  auto publisher = Publisher<TestSnapshot>::create("named", {.prefix = prefix_});
  try {
    (void)Subscriber<TestSnapshot>::open("named", {.prefix = prefix_, .id = "a/b"});
    FAIL();
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::invalid_argument);
    EXPECT_NE(std::string(failure.what()).find("subscriber id 'a/b'"), std::string::npos) << failure.what();
  }
}

TEST_F(GarbageRegion, OpeningAMissingTopicSaysNoPublisherCreatedIt) {
  try {
    (void)Subscriber<TestSnapshot>::open("absent", {.prefix = prefix_});
    FAIL();
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::not_found);
    EXPECT_NE(std::string(failure.what()).find("no publisher has created this topic"), std::string::npos)
        << failure.what();
  }
}

TEST_F(GarbageRegion, ModesThatLetOthersWriteAreRefusedAtCreate) {
  for (const mode_t mode : {mode_t{0660}, mode_t{0666}, mode_t{0642}}) {
    try {
      auto publisher = Publisher<TestSnapshot>::create("open", {.prefix = prefix_, .mode = mode});
      ADD_FAILURE() << "created a region with mode " << std::oct << mode;
    } catch (const Error& failure) {
      EXPECT_EQ(failure.code(), Errc::invalid_argument) << failure.what();
      char shown[8];
      std::snprintf(shown, sizeof shown, "%04o", static_cast<unsigned>(mode));
      EXPECT_NE(std::string(failure.what()).find(std::string("region mode ") + shown), std::string::npos)
          << failure.what();
      EXPECT_NE(std::string(failure.what()).find("0640"), std::string::npos) << failure.what();
    }
  }
  auto publisher = Publisher<TestSnapshot>::create("open", {.prefix = prefix_});
  for (const mode_t mode : {mode_t{0622}, mode_t{0660}, mode_t{0624}}) {
    try {
      (void)Subscriber<TestSnapshot>::open("open", {.prefix = prefix_, .id = "wide", .queue_mode = mode});
      ADD_FAILURE() << "created a notify queue with mode " << std::oct << mode;
    } catch (const Error& failure) {
      EXPECT_EQ(failure.code(), Errc::invalid_argument) << failure.what();
      EXPECT_NE(std::string(failure.what()).find("queue mode"), std::string::npos) << failure.what();
    }
  }
}

TEST_F(GarbageRegion, ARegionOrControlQueueOthersMayWriteOrReadIsRefusedByReaders) {
  auto publisher = Publisher<TestSnapshot>::create("chmodded", {.prefix = prefix_});
  publisher.publish(TestSnapshot{TestSnapshot::make(1)});
  const std::string region = "/dev/shm/" + prefix_ + ":chmodded";
  ASSERT_EQ(chmod(region.c_str(), 0666), 0);
  try {
    (void)RegionReader::open("/" + prefix_ + ":chmodded");
    ADD_FAILURE() << "a reader accepted a world-writable region";
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::permission_denied) << failure.what();
    EXPECT_NE(std::string(failure.what()).find("has mode 0666"), std::string::npos) << failure.what();
    EXPECT_NE(std::string(failure.what()).find("chmod go-w " + region), std::string::npos) << failure.what();
  }
  EXPECT_THROW((void)Subscriber<TestSnapshot>::open("chmodded", {.prefix = prefix_}), Error);
  // Inspection that decides nothing may still look.
  EXPECT_NO_THROW((void)RegionReader::open("/" + prefix_ + ":chmodded", TrustedOwners{.anyone = true}));
  ASSERT_EQ(chmod(region.c_str(), 0640), 0);
  const std::string control = "/dev/mqueue/" + prefix_ + ":chmodded:ctl";
  ASSERT_EQ(chmod(control.c_str(), 0666), 0);
  try {
    (void)Subscriber<TestSnapshot>::open("chmodded", {.prefix = prefix_, .id = "careful"});
    ADD_FAILURE() << "a subscriber sent its HELLO through a world-readable control queue";
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::permission_denied) << failure.what();
    EXPECT_NE(std::string(failure.what()).find("control queue"), std::string::npos) << failure.what();
    EXPECT_NE(std::string(failure.what()).find("has mode 0666"), std::string::npos) << failure.what();
  }
  ASSERT_EQ(chmod(control.c_str(), 0620), 0);
  EXPECT_NO_THROW((void)Subscriber<TestSnapshot>::open("chmodded", {.prefix = prefix_, .id = "careful"}));
}

TEST_F(GarbageRegion, AReaderKeepsThePublisherItValidatedWhenTheHeaderIsRewritten) {
  auto publisher = Publisher<TestSnapshot>::create("redirected", {.prefix = prefix_});
  RegionReader reader = RegionReader::open("/" + prefix_ + ":redirected");
  ASSERT_EQ(reader.publisher_pid(), getpid());
  const std::uint64_t epoch = reader.epoch();
  // A pid that is certainly dead: a child we have reaped.
  const pid_t child = fork();
  if (child == 0) {
    _exit(0);
  }
  ASSERT_GT(child, 0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  {
    RegionTamper tamper("/" + prefix_ + ":redirected");
    tamper.header().publisher_pid = child;
    tamper.header().publisher_start_time = 0;
    tamper.header().epoch = epoch + 41;
  }
  EXPECT_EQ(reader.publisher_pid(), getpid()) << "followed the rewritten header";
  EXPECT_TRUE(reader.publisher_alive()) << "the rewritten header made a live publisher look dead";
  EXPECT_EQ(reader.epoch(), epoch);
}

}  // namespace
}  // namespace shmsnap::test
