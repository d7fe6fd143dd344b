// One writer at full speed, several reader threads, millions of reads: no read
// may ever return a snapshot mixing two publishes. Run under TSan in CI, where
// the relaxed-atomic copy must keep the race detector quiet.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "shmsnap/publisher.hpp"
#include "shmsnap/region.hpp"
#include "support/fixture.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {
namespace {

std::uint64_t reads_per_reader(std::uint64_t fallback) {
  const char* from_env = std::getenv("SHMSNAP_STRESS_READS");
  return from_env != nullptr ? std::strtoull(from_env, nullptr, 10) : fallback;
}

template <class T>
void hammer(const std::string& prefix, const std::string& topic, std::uint32_t slots, std::uint64_t reads,
            int reader_count) {
  auto publisher = Publisher<T>::create(topic, {.prefix = prefix, .slot_count = slots});
  std::atomic<bool> readers_done{false};
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> regressions{0};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> consistent{0};

  std::thread writer([&] {
    T snapshot{};
    for (std::uint64_t seq = 1; !readers_done.load(std::memory_order_relaxed); ++seq) {
      static_cast<typename T::CheckedSnapshot&>(snapshot) = T::make(seq);
      publisher.publish(snapshot);
    }
  });
  std::vector<std::thread> readers;
  std::atomic<std::uint64_t> starved{0};
  for (int index = 0; index < reader_count; ++index) {
    readers.emplace_back([&] {
      RegionReader reader = RegionReader::open("/" + prefix + ":" + topic);
      auto snapshot = std::make_unique<T>();
      std::uint64_t last_seq = 0;
      std::uint64_t local_retries = 0;
      // Each reader makes `reads` consistent reads of published data, however slowly
      // a loaded machine schedules the writer; the deadline only turns a hang into
      // a failure.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
      for (std::uint64_t done = 0; done < reads;) {
        SnapshotMeta meta;
        const ReadStatus status =
            reader.try_read(std::as_writable_bytes(std::span(snapshot.get(), 1)), meta, local_retries);
        if (status != ReadStatus::ok) {
          if (std::chrono::steady_clock::now() > deadline) {
            starved.fetch_add(1, std::memory_order_relaxed);
            break;
          }
          std::this_thread::yield();  // empty (writer not started yet) or lapped: let it run
          continue;
        }
        ++done;
        consistent.fetch_add(1, std::memory_order_relaxed);
        if (!snapshot->intact() || snapshot->seq != meta.seq) {
          torn.fetch_add(1, std::memory_order_relaxed);
        }
        if (meta.seq < last_seq) {
          regressions.fetch_add(1, std::memory_order_relaxed);
        }
        last_seq = meta.seq;
      }
      retries.fetch_add(local_retries, std::memory_order_relaxed);
    });
  }
  for (std::thread& reader : readers) {
    reader.join();
  }
  readers_done.store(true);
  writer.join();
  EXPECT_EQ(torn.load(), 0U);
  EXPECT_EQ(regressions.load(), 0U);
  EXPECT_EQ(starved.load(), 0U) << "a reader made no progress for 90 s";
  EXPECT_EQ(consistent.load(), reads * static_cast<std::uint64_t>(reader_count));
  ::testing::Test::RecordProperty("retries", std::to_string(retries.load()));
  std::printf("reads=%llu consistent=%llu retries=%llu published=%llu\n",
              static_cast<unsigned long long>(reads * static_cast<std::uint64_t>(reader_count)),
              static_cast<unsigned long long>(consistent.load()), static_cast<unsigned long long>(retries.load()),
              static_cast<unsigned long long>(publisher.last_seq()));
}

class SeqlockStress : public ProcessTest {};

TEST_F(SeqlockStress, MillionsOfReadsUnderAFullSpeedWriterAreNeverTorn) {
  hammer<TestSnapshot>(prefix_, "small", 3, reads_per_reader(1'000'000), 3);
}

TEST_F(SeqlockStress, LargeSnapshotsWithTwoSlotsAreNeverTornWhenTheWriterLapsReaders) {
  hammer<LargeSnapshot>(prefix_, "large", 2, reads_per_reader(1'000'000) / 50, 3);
}

}  // namespace
}  // namespace shmsnap::test
