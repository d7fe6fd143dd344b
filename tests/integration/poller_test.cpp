// One thread follows three topics, each fed by its own publisher process.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <thread>

#include "shmsnap/poller.hpp"
#include "shmsnap/subscriber.hpp"
#include "support/fixture.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {
namespace {

class PollerTest : public ProcessTest {};

TEST_F(PollerTest, OneThreadReceivesEveryTopicsUpdates) {
  const std::array<std::string, 3> topics{"alpha", "beta", "gamma"};
  const std::array<int, 3> counts{300, 500, 700};
  std::vector<ChildProcess*> publishers;
  for (std::size_t index = 0; index < topics.size(); ++index) {
    publishers.push_back(
        &start("publisher", {"--count", std::to_string(counts[index]), "--wait-subscribers", "1", "--hold-ms", "-1"},
               topics[index]));
    ASSERT_TRUE(publishers.back()->wait_for_line("READY", patience)) << publishers.back()->output();
  }
  std::vector<Subscriber<TestSnapshot>> subscribers;
  std::array<std::uint64_t, 3> torn{};
  Poller poller;
  subscribers.reserve(topics.size());  // the poller holds their cores, which never move anyway
  for (const std::string& topic : topics) {
    subscribers.push_back(Subscriber<TestSnapshot>::open(topic, {.prefix = prefix_, .id = "poller"}));
  }
  for (std::size_t index = 0; index < subscribers.size(); ++index) {
    subscribers[index].on_update([&torn, index](const TestSnapshot& snapshot, const UpdateInfo& info) {
      torn[index] += snapshot.intact() && snapshot.seq == info.seq ? 0 : 1;
    });
    poller.add(subscribers[index]);
  }
  const auto all_final = [&] {
    for (std::size_t index = 0; index < subscribers.size(); ++index) {
      if (subscribers[index].latest().seq != static_cast<std::uint64_t>(counts[index])) {
        return false;
      }
    }
    return true;
  };
  const auto give_up = std::chrono::steady_clock::now() + patience;
  while (!all_final() && std::chrono::steady_clock::now() < give_up) {
    poller.wait(std::chrono::milliseconds(100));
  }
  for (std::size_t index = 0; index < subscribers.size(); ++index) {
    EXPECT_EQ(subscribers[index].latest().seq, static_cast<std::uint64_t>(counts[index])) << topics[index];
    EXPECT_GE(subscribers[index].stats().delivered, 1U) << topics[index];
    EXPECT_EQ(torn[index], 0U) << topics[index];
  }
  subscribers.clear();
  for (ChildProcess* publisher : publishers) {
    publisher->signal(SIGTERM);
    EXPECT_EQ(publisher->wait_exit(patience), 0);
  }
}

// How the bridge's exporter hears of an acknowledgement arriving on nats.c's thread.
TEST(PollerWakeUp, AWriteToAWakeOnDescriptorEndsTheWaitFromAnotherThread) {
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ASSERT_GE(wake_fd, 0);
  Poller poller;
  poller.wake_on(wake_fd);
  const auto started = std::chrono::steady_clock::now();
  std::thread waker([wake_fd] {
    const std::uint64_t one = 1;
    EXPECT_EQ(::write(wake_fd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  });
  // Without the wake-up the wait would last its whole timeout; with it, it ends
  // once the other thread has written (maybe before the wait began).
  EXPECT_EQ(poller.wait(patience), 0U);
  EXPECT_LT(std::chrono::steady_clock::now() - started, patience);
  waker.join();
  std::uint64_t count = 0;
  EXPECT_EQ(::read(wake_fd, &count, sizeof count), static_cast<ssize_t>(sizeof count));
  EXPECT_EQ(count, 1U);
  ::close(wake_fd);
}

}  // namespace
}  // namespace shmsnap::test
