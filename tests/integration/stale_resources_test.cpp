// Leftovers of SIGKILLed processes: clean removes them, the next publisher and
// same-id subscribers reclaim them, a fresh topic works.
#include "reliability_support.hpp"

namespace shmsnap::test {
namespace {

using namespace std::chrono_literals;

class StaleResources : public Reliability {
 protected:
  // A publisher and three subscribers, all SIGKILLed once attached (the publisher
  // first: a live one would reclaim the killed subscribers' queues).
  void kill_everything() {
    ChildProcess& publisher = start("publisher", {"--count", "10", "--wait-subscribers", "3", "--hold-ms", "-1"});
    ASSERT_TRUE(publisher.wait_for_line("READY", patience)) << publisher.output();
    std::vector<ChildProcess*> subscribers;
    for (const char* id : {"s0", "s1", "s2"}) {
      subscribers.push_back(&start("subscriber", {"--id", id, "--until-seq", "10", "--linger", "1"}));
    }
    for (ChildProcess* subscriber : subscribers) {
      ASSERT_TRUE(subscriber->wait_for_line("DONE", patience)) << subscriber->output();
    }
    publisher.signal(SIGKILL);
    publisher.wait_exit(patience);
    for (ChildProcess* subscriber : subscribers) {
      subscriber->signal(SIGKILL);
      subscriber->wait_exit(patience);
    }
    ASSERT_EQ(leftovers(prefix_).size(), 5U) << ::testing::PrintToString(leftovers(prefix_));
  }

  // A fresh publisher and subscribers with `ids` work end to end, then stop cleanly.
  void fresh_topic_works(const std::vector<std::string>& ids, std::int64_t expected_epoch) {
    ChildProcess& publisher =
        start("publisher", {"--count", "100", "--wait-subscribers", std::to_string(ids.size()), "--hold-ms", "-1"});
    const auto ready = publisher.wait_for_line("READY", patience);
    ASSERT_TRUE(ready) << publisher.output();
    EXPECT_EQ(field(*ready, "epoch"), expected_epoch);
    std::vector<ChildProcess*> subscribers;
    for (const std::string& id : ids) {
      subscribers.push_back(&start("subscriber", {"--id", id, "--until-seq", "100"}));
    }
    for (ChildProcess* subscriber : subscribers) {
      const auto done = subscriber->wait_for_line("DONE", patience);
      ASSERT_TRUE(done) << subscriber->output();
      EXPECT_EQ(field(*done, "final"), 100);
      EXPECT_EQ(subscriber->wait_exit(patience), 0);
    }
    publisher.signal(SIGTERM);
    EXPECT_EQ(publisher.wait_exit(patience), 0);
    EXPECT_TRUE(leftovers(prefix_).empty()) << ::testing::PrintToString(leftovers(prefix_));
  }
};

TEST_F(StaleResources, AfterEverythingIsKilledCleanRemovesEveryLeftoverAndAFreshTopicWorks) {
  kill_everything();
  const admin::CleanReport report = admin::clean(prefix_, false);
  EXPECT_EQ(report.removed.size(), 5U);
  EXPECT_TRUE(report.errors.empty()) << ::testing::PrintToString(report.errors);
  EXPECT_TRUE(leftovers(prefix_).empty()) << ::testing::PrintToString(leftovers(prefix_));
  fresh_topic_works({"n0", "n1"}, 1);  // new ids: nothing of the old topic needed
}

// Guards the fix for this bug: the successor reads the dead owner's
// subscriber ids without validating them, and announce_new_epoch (noexcept)
// builds queue names from them outside its try block: one bad id is std::terminate.
TEST_F(StaleResources, TakeoverOfADeadRegionWithAGarbageSubscriberIdDoesNotCrashThePublisher) {
  ChildProcess& publisher = start("publisher", {"--count", "1", "--wait-subscribers", "1", "--hold-ms", "-1"});
  ASSERT_TRUE(publisher.wait_for_line("READY", patience)) << publisher.output();
  ChildProcess& subscriber = start("subscriber", {"--id", "listed", "--until-seq", "1", "--linger", "1"});
  ASSERT_TRUE(subscriber.wait_for_line("DONE", patience)) << subscriber.output();
  publisher.signal(SIGKILL);
  publisher.wait_exit(patience);
  subscriber.signal(SIGKILL);
  subscriber.wait_exit(patience);

  // Corrupt the dead region's table the way a crash or a hostile writer could:
  // an active entry whose id would leave the topic's namespace.
  {
    const int fd = shm_open(names_.region().c_str(), O_RDWR, 0);
    ASSERT_GE(fd, 0);
    struct stat status {};
    ASSERT_EQ(fstat(fd, &status), 0);
    void* base = mmap(nullptr, static_cast<std::size_t>(status.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ASSERT_NE(base, MAP_FAILED);
    const auto& header = *static_cast<const detail::RegionHeader*>(base);
    auto* table =
        reinterpret_cast<detail::SubscriberEntry*>(static_cast<std::byte*>(base) + header.subscriber_table_offset);
    bool corrupted = false;
    for (std::uint32_t index = 0; index < header.max_subscribers; ++index) {
      if (table[index].state.load() == static_cast<std::uint32_t>(detail::TableEntryState::active)) {
        std::memset(table[index].id, 0, sizeof table[index].id);
        std::memcpy(table[index].id, "a/b", 3);
        corrupted = true;
      }
    }
    munmap(base, static_cast<std::size_t>(status.st_size));
    close(fd);
    ASSERT_TRUE(corrupted) << "no active entry to corrupt";
  }
  MessageQueue::unlink(names_.notify_queue("listed"));

  ChildProcess& successor = start("publisher", {"--count", "1", "--hold-ms", "-1"});
  const auto ready = successor.wait_for_line("READY", patience);
  EXPECT_TRUE(ready) << "the successor died taking the topic over: exit " << successor.wait_exit(patience).value_or(-1)
                     << " " << successor.output();
  if (ready) {
    EXPECT_EQ(field(*ready, "epoch"), 2);
    successor.signal(SIGTERM);
    EXPECT_EQ(successor.wait_exit(patience), 0);
  }
}

TEST_F(StaleResources, AfterEverythingIsKilledTheNextPublisherAndSameIdSubscribersReclaimEverything) {
  kill_everything();
  // No clean: the next publisher takes the dead topic over (epoch 2), and each
  // subscriber reclaims the queue its dead predecessor left under its id.
  fresh_topic_works({"s0", "s1", "s2"}, 2);
}

}  // namespace
}  // namespace shmsnap::test
