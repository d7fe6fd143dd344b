// Zero-copy reads (RegionReader::read_in_place / read_fields and the Subscriber
// methods on top): a visit that a writer overlaps is never reported as ok, the caller
// is told (max_attempts 1) or the visit is retried, and field reads copy exactly the
// ranges asked for. In-process publisher and readers; label concurrency, so TSan
// checks the seqlock protocol around the visitor (whose own plain reads it is told
// to ignore, see region_reader.cpp).
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <thread>

#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/subscriber.hpp"
#include "support/fixture.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {
namespace {

class ZeroCopyRead : public ProcessTest {};

// What a visitor takes out of a LargeSnapshot: a few fields at both ends.
struct Fields {
  std::uint64_t seq = 0;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t checksum = 0;

  [[nodiscard]] bool consistent() const noexcept {
    return first == mix(seq, 0) && last == mix(seq, 8189) && checksum == LargeSnapshot::make(seq).checksum;
  }
};

TEST_F(ZeroCopyRead, VisitorSeesThePublishedSnapshotInPlace) {
  auto publisher = Publisher<TestSnapshot>::create("inplace", {.prefix = prefix_});
  auto subscriber = Subscriber<TestSnapshot>::open("inplace", {.prefix = prefix_, .id = "reader"});
  SnapshotMeta meta;
  EXPECT_EQ(subscriber.read_in_place([](const TestSnapshot&) {}, meta), ReadStatus::empty);

  const std::uint64_t seq = publisher.publish(TestSnapshot{TestSnapshot::make(7)});
  bool intact = false;
  std::uint64_t seen = 0;
  const TestSnapshot* where = nullptr;
  ASSERT_EQ(subscriber.read_in_place(
                [&](const TestSnapshot& snapshot) {
                  intact = snapshot.intact();
                  seen = snapshot.seq;
                  where = &snapshot;
                },
                meta),
            ReadStatus::ok);
  EXPECT_TRUE(intact);
  EXPECT_EQ(seen, 7U);
  EXPECT_EQ(meta.seq, seq);
  // In place: the visitor was handed the mapping, not the subscriber's local copy.
  EXPECT_NE(static_cast<const void*>(where), static_cast<const void*>(&subscriber.latest()));
}

TEST_F(ZeroCopyRead, AWriterThatLapsTheVisitorIsDetectedAndRetriedOrReported) {
  auto publisher = Publisher<LargeSnapshot>::create("lapped", {.prefix = prefix_, .slot_count = 2});
  auto subscriber = Subscriber<LargeSnapshot>::open("lapped", {.prefix = prefix_, .id = "reader"});
  publisher.publish(LargeSnapshot{LargeSnapshot::make(1)});
  const std::uint32_t slots = subscriber.core().region()->header().slot_count;

  // The first call publishes `slots` times from inside the visitor, so the writer
  // rewrites the very slot being visited: that visit must not validate.
  int calls = 0;
  std::uint64_t next = 2;
  Fields fields;
  auto lapping_visitor = [&](const LargeSnapshot& snapshot) {
    fields = {snapshot.seq, snapshot.words[0], 0, 0};
    if (calls++ == 0) {
      for (std::uint32_t index = 0; index < slots; ++index)
        publisher.publish(LargeSnapshot{LargeSnapshot::make(next++)});
    }
    fields.last = snapshot.words[8189];
    fields.checksum = snapshot.checksum;
  };

  SnapshotMeta meta;
  const std::uint64_t retries_before = subscriber.stats().retries;
  EXPECT_EQ(subscriber.read_in_place(lapping_visitor, meta, 1), ReadStatus::contended);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(subscriber.stats().retries, retries_before + 1);

  calls = 0;
  ASSERT_EQ(subscriber.read_in_place(lapping_visitor, meta), ReadStatus::ok);
  EXPECT_EQ(calls, 2);  // the lapped visit, then a clean one
  EXPECT_TRUE(fields.consistent()) << "seq " << fields.seq;
  EXPECT_EQ(fields.seq, meta.seq);
  EXPECT_EQ(meta.seq, next - 1);
}

TEST_F(ZeroCopyRead, ReadersRacingAWriterThreadNeverValidateAMixedVisit) {
  auto publisher = Publisher<LargeSnapshot>::create("race", {.prefix = prefix_, .slot_count = 2});
  publisher.publish(LargeSnapshot{LargeSnapshot::make(1)});
  RegionReader reader = RegionReader::open("/" + prefix_ + ":race");
  std::atomic<bool> done{false};
  std::thread writer([&] {
    auto value = std::make_unique<LargeSnapshot>();
    for (std::uint64_t seq = 2; !done.load(std::memory_order_relaxed); ++seq) {
      *value = LargeSnapshot{LargeSnapshot::make(seq)};
      publisher.publish(*value);
    }
  });

  constexpr int reads = 2000;
  int ok = 0;
  int mixed = 0;
  std::uint64_t retries = 0;
  const FieldRange ranges[] = {{0, 8}, {8, 8}, {65520, 16}};
  std::byte selected[32];
  for (int index = 0; index < reads; ++index) {
    SnapshotMeta meta;
    Fields fields;
    const ReadStatus status = reader.read_in_place(
        [&](std::span<const std::byte> payload) {
          const auto& snapshot = *reinterpret_cast<const LargeSnapshot*>(payload.data());
          fields = {snapshot.seq, snapshot.words[0], snapshot.words[8189], snapshot.checksum};
        },
        meta, retries);
    if (status == ReadStatus::ok) {
      ++ok;
      mixed += fields.consistent() && fields.seq == meta.seq ? 0 : 1;
    }
    if (reader.read_fields(ranges, selected, meta, retries) == ReadStatus::ok) {
      ++ok;
      Fields copied;
      std::memcpy(&copied.seq, selected, 8);
      std::memcpy(&copied.first, selected + 8, 8);
      std::memcpy(&copied.last, selected + 16, 8);
      std::memcpy(&copied.checksum, selected + 24, 8);
      mixed += copied.consistent() && copied.seq == meta.seq ? 0 : 1;
    }
  }
  done.store(true, std::memory_order_relaxed);
  writer.join();
  EXPECT_EQ(mixed, 0) << ok << " validated reads, " << retries << " retries";
  EXPECT_GT(ok, 0);
}

TEST_F(ZeroCopyRead, FieldReadsCopyExactlyTheRangesAskedFor) {
  auto publisher = Publisher<TestSnapshot>::create("fields", {.prefix = prefix_});
  auto subscriber = Subscriber<TestSnapshot>::open("fields", {.prefix = prefix_, .id = "reader"});
  const TestSnapshot value = TestSnapshot{TestSnapshot::make(42)};
  publisher.publish(value);
  const auto* bytes = reinterpret_cast<const std::byte*>(&value);

  // Unaligned starts and ends, a single byte, and the last word.
  const FieldRange ranges[] = {{3, 1}, {13, 21}, {0, 8}, {496, 8}, {100, 300}};
  std::byte destination[1 + 21 + 8 + 8 + 300];
  SnapshotMeta meta;
  ASSERT_EQ(subscriber.read_fields(ranges, destination, meta), ReadStatus::ok);
  const std::byte* out = destination;
  for (const auto& range : ranges) {
    EXPECT_EQ(std::memcmp(out, bytes + range.offset, range.size), 0) << "range at " << range.offset;
    out += range.size;
  }
  EXPECT_EQ(meta.seq, 1U);

  const FieldRange outside[] = {{500, 8}};
  EXPECT_THROW((void)subscriber.read_fields(outside, destination, meta), Error);
  const FieldRange too_big[] = {{0, 504}};
  std::byte small[8];
  EXPECT_THROW((void)subscriber.read_fields(too_big, small, meta), Error);
}

}  // namespace
}  // namespace shmsnap::test
