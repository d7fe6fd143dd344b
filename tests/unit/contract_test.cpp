// The hot-path contracts: what a caller may not do through the public API is
// caught (death tests), and what a reader is promised (a deadline) holds even
// against a writer that laps every read.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <future>
#include <vector>

#include "shmsnap/detail/region_layout.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/subscriber.hpp"
#include "support/fixture.hpp"
#include "support/region_tamper.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {
namespace {

class LoanContractDeathTest : public ProcessTest {
 protected:
  // The publisher runs a control thread, so the child re-executes the test binary;
  // it builds its own fixture, so it learns the parent's prefix from the environment,
  // and the parent removes what the dead child left under it.
  void SetUp() override {
    ProcessTest::SetUp();
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    setenv("SHMSNAP_DEATH_TEST_PREFIX", prefix_.c_str(), 0);
  }
  void TearDown() override {
    unsetenv("SHMSNAP_DEATH_TEST_PREFIX");
    remove_leftovers(prefix_);
    ProcessTest::TearDown();
  }
  static std::string shared_prefix() { return std::getenv("SHMSNAP_DEATH_TEST_PREFIX"); }
};

TEST_F(LoanContractDeathTest, PublishWhileALoanIsOpenIsAContractViolation) {
  EXPECT_DEATH(
      {
        auto publisher = Publisher<TestSnapshot>::create("publish-in-loan", {.prefix = shared_prefix()});
        auto loan = publisher.loan();
        publisher.publish(TestSnapshot{TestSnapshot::make(1)});
      },
      "publish\\(\\) while a Loan is open");
}

TEST_F(LoanContractDeathTest, ASecondLoanWhileOneIsOpenIsAContractViolation) {
  EXPECT_DEATH(
      {
        auto publisher = Publisher<TestSnapshot>::create("two-loans", {.prefix = shared_prefix()});
        auto first = publisher.loan();
        auto second = publisher.loan();
      },
      "loan\\(\\) or publish\\(\\) while a Loan is open");
}

TEST_F(LoanContractDeathTest, LoansInTurnKeepEverySlotEvenAtRest) {
  auto publisher = Publisher<TestSnapshot>::create("loans-in-turn", {.prefix = prefix_, .slot_count = 2});
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    auto loan = publisher.loan();
    static_cast<TestSnapshot::CheckedSnapshot&>(*loan) = TestSnapshot::make(seq);
    loan.publish();
  }
  { auto dropped = publisher.loan(); }  // aborted: publishes nothing
  publisher.publish(TestSnapshot{TestSnapshot::make(6)});
  auto subscriber = Subscriber<TestSnapshot>::open("loans-in-turn", {.prefix = prefix_});
  ASSERT_TRUE(subscriber.has_value());
  EXPECT_EQ(subscriber.info().seq, 6U);
  EXPECT_TRUE(subscriber.latest().intact());
}

class ReaderDeadline : public ProcessTest {};

TEST_F(ReaderDeadline, AReaderLappedOnEveryAttemptStillReturnsFromItsWait) {
  auto publisher = Publisher<TestSnapshot>::create("lapped", {.prefix = prefix_});
  publisher.publish(TestSnapshot{TestSnapshot::make(1)});
  auto subscriber = Subscriber<TestSnapshot>::open("lapped", {.prefix = prefix_});
  ASSERT_EQ(subscriber.info().seq, 1U);
  publisher.publish(TestSnapshot{TestSnapshot::make(2)});
  // Every read of the newest slot now looks like a write in progress, while the
  // publisher lives: a reader that retries without bound never returns.
  RegionTamper tamper("/" + prefix_ + ":lapped");
  reinterpret_cast<std::atomic<std::uint64_t>&>(tamper.published_slot().lock).fetch_or(1);

  auto waited = std::async(std::launch::async, [&] { return subscriber.wait(std::chrono::milliseconds(10)); });
  ASSERT_EQ(waited.wait_for(patience), std::future_status::ready) << "wait(10ms) never returned";
  EXPECT_FALSE(waited.get());
  EXPECT_GE(subscriber.stats().contended, 1U) << "the contention is reported";
  EXPECT_EQ(subscriber.info().seq, 1U) << "the last good state stays";
  // The next publish goes to the other slot, whose word the writer keeps itself.
  publisher.publish(TestSnapshot{TestSnapshot::make(3)});
  ASSERT_TRUE(subscriber.wait(patience));
  EXPECT_EQ(subscriber.info().seq, 3U);
  EXPECT_TRUE(subscriber.latest().intact());
}

class ValidatedGeometry : public ProcessTest {};

TEST_F(ValidatedGeometry, AHeaderRewrittenAfterValidationCannotWidenAnyReadOrSteerTheWriter) {
  auto publisher = Publisher<TestSnapshot>::create("rewritten", {.prefix = prefix_});
  publisher.publish(TestSnapshot{TestSnapshot::make(1)});
  RegionReader reader = RegionReader::open("/" + prefix_ + ":rewritten");
  const std::string descriptor(reader.descriptor());
  {
    RegionTamper tamper("/" + prefix_ + ":rewritten");
    detail::RegionHeader& header = tamper.header();
    header.payload_size = 1U << 30;
    header.slot_stride = 1U << 30;
    header.header_size = std::uint64_t{1} << 40;
    header.slot_count = 255;
    header.descriptor_size = 1U << 30;
    header.descriptor_offset = std::uint64_t{1} << 40;
  }
  // The writer keeps its own geometry: it neither crashes nor writes elsewhere.
  publisher.publish(TestSnapshot{TestSnapshot::make(2)});
  EXPECT_EQ(reader.payload_size(), sizeof(TestSnapshot));
  EXPECT_EQ(reader.descriptor(), descriptor);
  std::vector<std::byte> copy(std::size_t{1} << 20);  // room for a widened read, which must not happen
  SnapshotMeta meta;
  std::uint64_t retries = 0;
  ASSERT_EQ(reader.try_read(copy, meta, retries), ReadStatus::ok);
  EXPECT_EQ(meta.seq, 2U);
  TestSnapshot snapshot{};
  std::memcpy(&snapshot, copy.data(), sizeof snapshot);
  EXPECT_TRUE(snapshot.intact());
  EXPECT_EQ(snapshot.seq, 2U);
  EXPECT_TRUE(std::all_of(copy.begin() + sizeof(TestSnapshot), copy.end(), [](std::byte b) {
    return b == std::byte{0};
  })) << "the read went past the validated payload size";
}

class FaultInjection : public ProcessTest {};

TEST_F(FaultInjection, TheProductPublisherIgnoresTheTestHookVariable) {
  setenv("SHMSNAP_FAULT_KILL_MID_WRITE_AT", "2", 1);
  ChildProcess publisher({bin_dir() + "/shmsnap-publisher", "--topic", "hooked", "--schema", "robot.pose", "--prefix",
                          prefix_, "--count", "20", "--rate", "0", "--log-level", "warn"});
  unsetenv("SHMSNAP_FAULT_KILL_MID_WRITE_AT");
  EXPECT_EQ(publisher.wait_exit(patience), 0) << "a product binary must not die at publish 2";
}

TEST_F(FaultInjection, TheTestPeerHonoursIt) {
  ChildProcess& peer = start("publisher", {"--fault-at", "2", "--count", "20"});
  EXPECT_EQ(peer.wait_exit(patience), 128 + SIGKILL) << peer.output();
  remove_leftovers(prefix_);  // what the killed publisher could not remove
}

}  // namespace
}  // namespace shmsnap::test
