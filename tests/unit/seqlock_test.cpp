// Seqlock primitives and the compile-time contract of snapshot types.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <numeric>

#include "shmsnap/detail/region_layout.hpp"
#include "shmsnap/seqlock.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap {
namespace {

static_assert(std::is_trivially_copyable_v<test::TestSnapshot> && std::is_standard_layout_v<test::TestSnapshot>);
static_assert(Snapshot<test::TestSnapshot> && Snapshot<test::LargeSnapshot>);
static_assert(!Snapshot<int>, "a type without a schema is not a snapshot");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<std::int64_t>::is_always_lock_free &&
              std::atomic<std::uint32_t>::is_always_lock_free);

TEST(Seqlock, CopiesEveryLengthIncludingPartialWords) {
  for (std::size_t size = 0; size <= 40; ++size) {
    std::array<unsigned char, 40> source{};
    std::iota(source.begin(), source.end(), static_cast<unsigned char>(1));
    alignas(8) std::array<unsigned char, 48> shared{};
    std::array<unsigned char, 48> copied{};
    copy_to_shared(shared.data(), source.data(), size);
    copy_from_shared(copied.data(), shared.data(), size);
    EXPECT_TRUE(std::equal(source.begin(), source.begin() + static_cast<long>(size), copied.begin())) << size;
    EXPECT_EQ(copied[size], 0) << "wrote past " << size << " bytes";
  }
}

TEST(Seqlock, AReadOverlappingAWriteAsksForARetry) {
  Seqlock lock;
  const std::uint64_t before = lock.read_begin();
  EXPECT_FALSE(lock.read_retry(before));
  std::uint64_t writer_sequence = 0;
  lock.write_begin(writer_sequence);
  EXPECT_TRUE(lock.read_retry(before)) << "a write began during the read";
  EXPECT_TRUE(lock.read_retry(lock.read_begin())) << "odd: writer active";
  lock.write_end(writer_sequence);
  const std::uint64_t after = lock.read_begin();
  EXPECT_EQ(after, before + 2);
  EXPECT_FALSE(lock.read_retry(after));
}

TEST(Seqlock, TheWriterNeverTakesItsSequenceFromTheSharedWord) {
  Seqlock lock;
  std::uint64_t writer_sequence = 0;
  lock.write_begin(writer_sequence);
  lock.write_end(writer_sequence);
  // Someone with write access to the region stores an odd value into the word.
  reinterpret_cast<std::atomic<std::uint64_t>*>(&lock)->store(7, std::memory_order_relaxed);
  lock.write_begin(writer_sequence);
  EXPECT_EQ(lock.peek() % 2, 1U) << "odd while written";
  lock.write_end(writer_sequence);
  EXPECT_EQ(lock.peek(), 4U) << "even at rest, from the writer's own count";
  EXPECT_FALSE(lock.read_retry(lock.read_begin()));
}

TEST(SeqlockDeathTest, AWriteBeginInsideAnOpenWriteIsAContractViolation) {
  Seqlock lock;
  std::uint64_t writer_sequence = 0;
  lock.write_begin(writer_sequence);
  EXPECT_DEATH(lock.write_begin(writer_sequence), "write_begin while a write of this slot is open");
  lock.write_end(writer_sequence);
  EXPECT_DEATH(lock.write_end(writer_sequence), "write_end without write_begin");
}

TEST(RegionLayout, PublishedWordPacksSequenceAndSlot) {
  const std::uint64_t word = detail::pack_published(123456789, 254);
  EXPECT_EQ(detail::published_seq(word), 123456789U);
  EXPECT_EQ(detail::published_slot(word), 254U);
}

}  // namespace
}  // namespace shmsnap
