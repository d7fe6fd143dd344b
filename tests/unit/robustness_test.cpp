// Regressions for faults found in review: each test fails on the code before its fix.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <thread>

#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/detail/region_layout.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/subscriber.hpp"
#include "support/fixture.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {
namespace {

int open_descriptor_count() {
  int count = 0;
  if (DIR* directory = opendir("/proc/self/fd")) {
    while (readdir(directory) != nullptr) {
      ++count;
    }
    closedir(directory);
  }
  return count;
}

class Robustness : public ProcessTest {};

TEST_F(Robustness, AbandonedLoansNeverHandReadersATornSnapshot) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a Loan writes shared memory with plain stores by design (publisher.hpp); TSan would flag "
                  "the readers it laps, which this test provokes on purpose";
#endif
  auto publisher = Publisher<TestSnapshot>::create("loans", {.prefix = prefix_, .slot_count = 2});
  publisher.publish(TestSnapshot{TestSnapshot::make(1)});
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> reads{0};
  std::vector<std::thread> readers;
  for (int index = 0; index < 2; ++index) {
    readers.emplace_back([&] {
      RegionReader reader = RegionReader::open("/" + prefix_ + ":loans");
      TestSnapshot copy{};
      std::uint64_t retries = 0;
      while (!done.load(std::memory_order_relaxed)) {
        SnapshotMeta meta;
        if (reader.try_read(std::as_writable_bytes(std::span(&copy, 1)), meta, retries) == ReadStatus::ok) {
          reads.fetch_add(1, std::memory_order_relaxed);
          torn.fetch_add(copy.intact() && copy.seq == meta.seq ? 0 : 1, std::memory_order_relaxed);
        }
      }
    });
  }
  // Alternate published snapshots with loans that scribble over the other slot
  // and are then dropped: a reader still on that slot must never accept it.
  for (std::uint64_t seq = 2; seq < 200'000; ++seq) {
    publisher.publish(TestSnapshot{TestSnapshot::make(seq)});
    auto loan = publisher.loan();
    std::memset(loan->words, 0xEE, sizeof loan->words / 2);
  }
  done = true;
  for (std::thread& reader : readers) {
    reader.join();
  }
  EXPECT_GT(reads.load(), 0U);
  EXPECT_EQ(torn.load(), 0U);
}

TEST_F(Robustness, CreatingQueuesFromManyThreadsLeavesTheUmaskAlone) {
  const mode_t before = umask(022);
  std::vector<std::thread> creators;
  for (int thread = 0; thread < 4; ++thread) {
    creators.emplace_back([this, thread] {
      for (int index = 0; index < 200; ++index) {
        const std::string name = "/" + prefix_ + ":q" + std::to_string(thread) + "_" + std::to_string(index);
        MessageQueue queue = MessageQueue::create(name, {.mode = 0620});
        EXPECT_EQ(queue.owner(), geteuid());
        MessageQueue::unlink(name);
      }
    });
  }
  for (std::thread& creator : creators) {
    creator.join();
  }
  EXPECT_EQ(umask(before), 022);
}

TEST_F(Robustness, QueuesGetExactlyTheModeAskedForWhateverTheUmask) {
  const mode_t before = umask(077);
  const std::string name = "/" + prefix_ + ":mode";
  {
    MessageQueue queue = MessageQueue::create(name, {.mode = 0620});
    if (ensure_mqueue_mounted()) {
      struct stat status {};
      ASSERT_EQ(stat(("/dev/mqueue" + name).c_str(), &status), 0);
      EXPECT_EQ(status.st_mode & 0777, 0620U);
    }
  }
  MessageQueue::unlink(name);
  umask(before);
}

TEST_F(Robustness, FailedOpensLeakNoDescriptor) {
  // The publisher and the subscriber that holds the id run as processes of their own:
  // a publisher in this process would open and close pidfds on its control thread
  // while we count, and this process's descriptors would no longer be ours to count.
  ChildProcess& publisher = start("publisher", {"--hold-ms", "-1"}, "leaks");
  ASSERT_TRUE(publisher.wait_for_line("READY", patience)) << publisher.output();
  ChildProcess& holder = start("subscriber", {"--id", "taken", "--linger", "1"}, "leaks");
  ASSERT_TRUE(holder.wait_for_line("ATTACHED", patience)) << holder.output();
  const int before = open_descriptor_count();
  for (int attempt = 0; attempt < 20; ++attempt) {
    EXPECT_THROW((void)Subscriber<TestSnapshot>::open("leaks", {.prefix = prefix_, .id = "taken"}), Error);
  }
  EXPECT_EQ(open_descriptor_count(), before);
  holder.signal(SIGTERM);
  EXPECT_EQ(holder.wait_exit(patience), 0);
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(Robustness, AReaderKeepsTheGeometryItValidatedWhenTheHeaderChangesUnderIt) {
  auto publisher = Publisher<TestSnapshot>::create("geometry", {.prefix = prefix_});
  publisher.publish(TestSnapshot{TestSnapshot::make(5)});
  RegionReader reader = RegionReader::open("/" + prefix_ + ":geometry");
  // A hostile or buggy writer rewrites the sizes after validation.
  const int fd = shm_open(("/" + prefix_ + ":geometry").c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  void* base = mmap(nullptr, sizeof(detail::RegionHeader), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ASSERT_NE(base, MAP_FAILED);
  auto* header = static_cast<detail::RegionHeader*>(base);
  header->header_size = std::uint64_t{1} << 40;
  header->slot_stride = 1U << 30;
  header->descriptor_size = 1U << 30;
  TestSnapshot copy{};
  SnapshotMeta meta;
  std::uint64_t retries = 0;
  EXPECT_EQ(reader.try_read(std::as_writable_bytes(std::span(&copy, 1)), meta, retries), ReadStatus::ok);
  EXPECT_EQ(copy.seq, 5U);
  EXPECT_LT(reader.descriptor().size(), 4096U);
  munmap(base, sizeof(detail::RegionHeader));
  close(fd);
}

TEST_F(Robustness, WaitingForeverReallyWaitsForTheNextPublish) {
  auto publisher = Publisher<TestSnapshot>::create("forever", {.prefix = prefix_});
  auto subscriber = Subscriber<TestSnapshot>::open("forever", {.prefix = prefix_});
  std::atomic<bool> returned{false};
  std::atomic<bool> delivered{false};
  // Only the waiter touches the subscriber (one thread at a time); this thread
  // just publishes until the wait returns. A wait whose deadline overflowed would
  // return false at once instead of taking a snapshot.
  std::thread waiter([&] {
    delivered = subscriber.wait(std::chrono::nanoseconds::max());
    returned = true;
  });
  for (std::uint64_t seq = 1; !returned && seq < 100'000; ++seq) {
    publisher.publish(TestSnapshot{TestSnapshot::make(seq)});
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  waiter.join();
  EXPECT_TRUE(delivered.load());
}

TEST_F(Robustness, PublisherStatsStayReadableAfterShutdown) {
  auto publisher = Publisher<TestSnapshot>::create("after", {.prefix = prefix_});
  publisher.publish(TestSnapshot{TestSnapshot::make(1)});
  publisher.shutdown();
  EXPECT_EQ(publisher.stats().published, 1U);
  EXPECT_EQ(publisher.epoch(), 1U);
  EXPECT_EQ(publisher.last_seq(), 1U);
}

}  // namespace
}  // namespace shmsnap::test
