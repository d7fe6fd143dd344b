// Variable-size snapshots: a publish states how much of the payload it wrote (the
// slot's used length), and readers copy that much and no more. A used length past
// the capacity was never written by the publisher: it is refused, never read past.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "shmsnap/detail/region_layout.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/region.hpp"
#include "support/fixture.hpp"
#include "support/region_tamper.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {
namespace {

constexpr std::byte untouched{0xAA};

class VariableSize : public ProcessTest {
 protected:
  [[nodiscard]] std::string region_name(const std::string& topic) const { return "/" + prefix_ + ":" + topic; }

  /// A LargeSnapshot (64 KiB) whose first `used` bytes are a recognisable pattern.
  static std::vector<std::byte> pattern(std::size_t size, std::uint8_t seed) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i)
      bytes[i] = static_cast<std::byte>((i * 7 + seed) & 0xFF);
    return bytes;
  }
};

TEST_F(VariableSize, ReadersCopyOnlyTheUsedPartOfAPublish) {
  UntypedPublisher publisher("frame", LargeSnapshot::shmsnap_schema, sizeof(LargeSnapshot), {.prefix = prefix_});
  const std::vector<std::byte> written = pattern(300, 1);
  publisher.publish(written.data(), written.size());

  RegionReader reader = RegionReader::open(region_name("frame"));
  std::vector<std::byte> destination(sizeof(LargeSnapshot), untouched);
  SnapshotMeta meta;
  std::uint64_t retries = 0;
  ASSERT_EQ(reader.try_read(destination, meta, retries), ReadStatus::ok);
  EXPECT_EQ(meta.used_bytes, 300U);
  EXPECT_TRUE(std::equal(written.begin(), written.end(), destination.begin()));
  // Nothing past the used length was copied: the destination's own bytes remain.
  EXPECT_TRUE(std::all_of(destination.begin() + 300, destination.end(), [](std::byte b) { return b == untouched; }));

  const auto newest = reader.read_newest(meta);
  ASSERT_TRUE(newest.has_value());
  EXPECT_EQ(*newest, written);

  std::size_t visited = 0;
  ASSERT_EQ(reader.read_in_place([&](std::span<const std::byte> payload) { visited = payload.size(); }, meta, retries),
            ReadStatus::ok);
  EXPECT_EQ(visited, 300U);
}

TEST_F(VariableSize, AShorterPublishAfterALongerOneReadsOnlyItsOwnBytes) {
  UntypedPublisher publisher("shrink", LargeSnapshot::shmsnap_schema, sizeof(LargeSnapshot), {.prefix = prefix_});
  const std::vector<std::byte> longer = pattern(40'000, 2);
  const std::vector<std::byte> shorter = pattern(64, 3);
  publisher.publish(longer.data(), longer.size());
  publisher.publish(shorter.data(), shorter.size());

  RegionReader reader = RegionReader::open(region_name("shrink"));
  SnapshotMeta meta;
  const auto newest = reader.read_newest(meta);
  ASSERT_TRUE(newest.has_value());
  EXPECT_EQ(meta.seq, 2U);
  EXPECT_EQ(*newest, shorter);

  // read_fields: a range past the used part reads as zeros, not as the older publish.
  const FieldRange beyond{.offset = 1000, .size = 16};
  std::vector<std::byte> field(16, untouched);
  std::uint64_t retries = 0;
  ASSERT_EQ(reader.read_fields(std::span(&beyond, 1), field, meta, retries), ReadStatus::ok);
  EXPECT_TRUE(std::all_of(field.begin(), field.end(), [](std::byte b) { return b == std::byte{0}; }));
}

TEST_F(VariableSize, ALoanCommitsTheUsedLengthItIsGiven) {
  auto publisher = Publisher<LargeSnapshot>::create("loan", {.prefix = prefix_});
  auto loan = publisher.loan();
  loan->seq = 42;
  loan.publish(sizeof(loan->seq));

  RegionReader reader = RegionReader::open(region_name("loan"));
  SnapshotMeta meta;
  const auto newest = reader.read_newest(meta);
  ASSERT_TRUE(newest.has_value());
  ASSERT_EQ(newest->size(), sizeof(std::uint64_t));
  std::uint64_t seq = 0;
  std::memcpy(&seq, newest->data(), sizeof seq);
  EXPECT_EQ(seq, 42U);

  // publish(value) without a length still publishes the whole snapshot.
  publisher.publish(LargeSnapshot{});
  EXPECT_EQ(reader.read_newest(meta)->size(), sizeof(LargeSnapshot));
}

TEST_F(VariableSize, AUsedLengthPastTheCapacityIsRefusedAndNeverReadPast) {
  UntypedPublisher publisher("forged", LargeSnapshot::shmsnap_schema, sizeof(LargeSnapshot), {.prefix = prefix_});
  const std::vector<std::byte> written = pattern(128, 4);
  publisher.publish(written.data(), written.size());
  RegionReader reader = RegionReader::open(region_name("forged"));

  // A user with write access claims a length far beyond the mapping: a reader that
  // trusted it would fault (or, under ASan, report) on the bytes past the file.
  const RegionTamper tamper(region_name("forged"));
  for (const std::uint64_t forged : {std::uint64_t{sizeof(LargeSnapshot) + 1}, std::uint64_t{1} << 40}) {
    tamper.published_slot().used_bytes.store(forged);
    std::vector<std::byte> destination(sizeof(LargeSnapshot));
    SnapshotMeta meta;
    std::uint64_t retries = 0;
    EXPECT_EQ(reader.try_read(destination, meta, retries), ReadStatus::corrupt) << forged;
    bool visited = false;
    EXPECT_EQ(reader.read_in_place([&](std::span<const std::byte>) { visited = true; }, meta, retries),
              ReadStatus::corrupt);
    EXPECT_FALSE(visited) << "the visitor was shown a payload longer than the capacity";
    try {
      (void)reader.read_newest(meta);
      ADD_FAILURE() << "read_newest accepted used length " << forged;
    } catch (const Error& refused) {
      EXPECT_EQ(refused.code(), Errc::invalid_region);
      EXPECT_NE(std::string(refused.what()).find("longer than its 65536-byte capacity"), std::string::npos)
          << refused.what();
    }
  }
}

TEST_F(VariableSize, ARegionOfTheOlderFixedSizeLayoutIsRefusedSayingWhy) {
  UntypedPublisher publisher("old", LargeSnapshot::shmsnap_schema, sizeof(LargeSnapshot), {.prefix = prefix_});
  const RegionTamper tamper(region_name("old"));
  tamper.header().layout_version = 1;
  try {
    (void)RegionReader::open(region_name("old"));
    ADD_FAILURE() << "a layout-1 region was accepted";
  } catch (const Error& refused) {
    EXPECT_EQ(refused.code(), Errc::invalid_region);
    EXPECT_NE(std::string(refused.what()).find("layout version 1 (its publisher is an older shmsnap"),
              std::string::npos)
        << refused.what();
  }
}

}  // namespace
}  // namespace shmsnap::test
