// Multi-process behaviour of the core: real publisher and subscriber processes
// (shmsnap-test-peer), fork/exec'd per test under a unique prefix.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <string>

#include "support/fixture.hpp"

namespace shmsnap::test {
namespace {

class PubSub : public ProcessTest {};

TEST_F(PubSub, FourSubscribersEndOnTheFinalSnapshotWithoutTornOrRegressingReads) {
  ChildProcess& publisher = start("publisher", {"--count", "10000", "--wait-subscribers", "4", "--hold-ms", "-1"});
  ASSERT_TRUE(publisher.wait_for_line("READY", patience)) << publisher.output();
  std::vector<ChildProcess*> subscribers;
  for (int index = 0; index < 4; ++index) {
    subscribers.push_back(&start("subscriber", {"--id", "s" + std::to_string(index), "--until-seq", "10000"}));
  }
  for (ChildProcess* subscriber : subscribers) {
    const auto done = subscriber->wait_for_line("DONE", patience);
    ASSERT_TRUE(done) << subscriber->output();
    EXPECT_EQ(field(*done, "final"), 10000);
    EXPECT_EQ(field(*done, "torn"), 0);
    EXPECT_EQ(field(*done, "regress"), 0);
    EXPECT_GE(field(*done, "delivered").value_or(0), 1);
    EXPECT_EQ(subscriber->wait_exit(patience), 0);
  }
  ASSERT_TRUE(publisher.wait_for_line("PUBLISHED", patience));
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(PubSub, LateJoinerHoldsTheCurrentStateRightAfterAttach) {
  ChildProcess& publisher = start("publisher", {"--count", "100", "--hold-ms", "-1"});
  ASSERT_TRUE(publisher.wait_for_line("PUBLISHED", patience)) << publisher.output();
  ChildProcess& late = start("subscriber", {"--id", "late", "--until-seq", "100"});
  const auto attached = late.wait_for_line("ATTACHED", patience);
  ASSERT_TRUE(attached) << late.output();
  EXPECT_EQ(field(*attached, "has_value"), 1);
  EXPECT_EQ(field(*attached, "seq"), 100);
  EXPECT_EQ(field(*attached, "intact"), 1);
  EXPECT_EQ(late.wait_exit(patience), 0);
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(PubSub, StoppedSubscriberNeitherBlocksThePublisherNorMissesTheLatestState) {
  ChildProcess& publisher =
      start("publisher", {"--count", "5000", "--wait-subscribers", "1", "--wait-go", "1", "--hold-ms", "-1"});
  ASSERT_TRUE(publisher.wait_for_line("READY", patience));
  ChildProcess& stopped = start("subscriber", {"--id", "sleepy", "--until-seq", "5000"});
  ASSERT_TRUE(stopped.wait_for_line("ATTACHED", patience)) << stopped.output();
  ASSERT_TRUE(publisher.wait_for_line("SUBSCRIBERS n=1", patience));
  stopped.signal(SIGSTOP);
  publisher.signal(SIGUSR1);
  const auto published = publisher.wait_for_line("PUBLISHED", patience);
  ASSERT_TRUE(published) << publisher.output();
  EXPECT_EQ(field(*published, "last"), 5000);
  EXPECT_GT(field(*published, "coalesced").value_or(0), 0);
  stopped.signal(SIGCONT);
  const auto done = stopped.wait_for_line("DONE", patience);
  ASSERT_TRUE(done) << stopped.output();
  EXPECT_EQ(field(*done, "final"), 5000);
  EXPECT_EQ(field(*done, "torn"), 0);
  EXPECT_EQ(stopped.wait_exit(patience), 0);
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(PubSub, KilledSubscriberHasItsQueueAndTableSlotReclaimed) {
  ChildProcess& publisher = start("publisher", {"--count", "1", "--hold-ms", "-1"});
  ASSERT_TRUE(publisher.wait_for_line("PUBLISHED", patience));
  ChildProcess& victim = start("subscriber", {"--id", "victim", "--until-seq", "1", "--linger", "1"});
  ASSERT_TRUE(victim.wait_for_line("DONE", patience)) << victim.output();
  ASSERT_TRUE(publisher.wait_for_line("TABLE subscribers=1", patience)) << publisher.output();
  const std::string queue = "/dev/mqueue/" + prefix_ + ":topic:sub:victim";
  ASSERT_TRUE(!ensure_mqueue_mounted() || std::filesystem::exists(queue));

  victim.signal(SIGKILL);
  ASSERT_EQ(victim.wait_exit(patience), 128 + SIGKILL);
  const auto table = publisher.wait_for_line("TABLE subscribers=0", patience);
  ASSERT_TRUE(table) << publisher.output();
  EXPECT_EQ(field(*table, "reclaimed"), 1);
  if (ensure_mqueue_mounted()) {
    EXPECT_FALSE(std::filesystem::exists(queue));
  }
  // The freed slot takes a new subscriber with the same id.
  ChildProcess& successor = start("subscriber", {"--id", "victim", "--until-seq", "1"});
  EXPECT_EQ(successor.wait_exit(patience), 0) << successor.output();
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(PubSub, PublisherKilledMidWriteLeavesLastGoodStateStaleAndSubscribersReattach) {
  ChildProcess& doomed =
      start("publisher", {"--count", "1000", "--wait-subscribers", "2", "--fault-at", "501", "--interval-us", "100"});
  ASSERT_TRUE(doomed.wait_for_line("READY epoch=1", patience)) << doomed.output();
  ChildProcess& first = start("subscriber", {"--id", "a", "--until-epoch", "2", "--until-seq", "50"});
  ChildProcess& second =
      start("subscriber", {"--id", "b", "--until-epoch", "2", "--until-seq", "50", "--mode", "spin"});
  EXPECT_EQ(doomed.wait_exit(patience), 128 + SIGKILL) << doomed.output();
  for (ChildProcess* subscriber : {&first, &second}) {
    const auto stale = subscriber->wait_for_line("STALE", patience);
    ASSERT_TRUE(stale) << subscriber->output();
    EXPECT_EQ(field(*stale, "seq"), 500) << "the last completed publish is the last good state";
    EXPECT_EQ(field(*stale, "intact"), 1);
  }
  ChildProcess& successor = start("publisher", {"--count", "100", "--wait-subscribers", "2", "--hold-ms", "-1"});
  ASSERT_TRUE(successor.wait_for_line("READY epoch=2", patience)) << successor.output();
  for (ChildProcess* subscriber : {&first, &second}) {
    ASSERT_TRUE(subscriber->wait_for_line("REATTACHED epoch=2", patience)) << subscriber->output();
    const auto done = subscriber->wait_for_line("DONE", patience);
    ASSERT_TRUE(done) << subscriber->output();
    EXPECT_EQ(field(*done, "epoch"), 2);
    EXPECT_EQ(field(*done, "torn"), 0);
    EXPECT_EQ(field(*done, "regress"), 0);
    EXPECT_EQ(subscriber->wait_exit(patience), 0);
  }
  successor.signal(SIGTERM);
  EXPECT_EQ(successor.wait_exit(patience), 0);
}

TEST_F(PubSub, PublisherKilledBetweenPublishesIsDetectedAndReplaced) {
  ChildProcess& doomed = start("publisher", {"--count", "10", "--hold-ms", "-1"});
  ASSERT_TRUE(doomed.wait_for_line("PUBLISHED", patience));
  ChildProcess& watcher = start("subscriber", {"--id", "w", "--until-epoch", "2", "--until-seq", "3"});
  ASSERT_TRUE(watcher.wait_for_line("ATTACHED seq=10", patience)) << watcher.output();
  doomed.signal(SIGKILL);
  ASSERT_EQ(doomed.wait_exit(patience), 128 + SIGKILL);
  const auto stale = watcher.wait_for_line("STALE", patience);
  ASSERT_TRUE(stale) << watcher.output();
  EXPECT_EQ(field(*stale, "seq"), 10);
  ChildProcess& successor = start("publisher", {"--count", "3", "--wait-subscribers", "1", "--hold-ms", "-1"});
  ASSERT_TRUE(successor.wait_for_line("READY epoch=2", patience)) << successor.output();
  EXPECT_EQ(watcher.wait_exit(patience), 0) << watcher.output();
  successor.signal(SIGTERM);
  EXPECT_EQ(successor.wait_exit(patience), 0);
}

TEST_F(PubSub, SecondPublisherOnALiveTopicIsRefusedNamingThePid) {
  ChildProcess& holder = start("publisher", {"--hold-ms", "-1"});
  const auto ready = holder.wait_for_line("READY", patience);
  ASSERT_TRUE(ready);
  ChildProcess& intruder = start("publisher", {"--hold-ms", "0"});
  EXPECT_EQ(intruder.wait_exit(patience), 3);
  EXPECT_NE(intruder.output().find("code=busy"), std::string::npos) << intruder.output();
  EXPECT_NE(intruder.output().find("pid " + std::to_string(*field(*ready, "pid"))), std::string::npos)
      << intruder.output();
  holder.signal(SIGTERM);
  EXPECT_EQ(holder.wait_exit(patience), 0);
}

TEST_F(PubSub, SecondSubscriberWithAnIdInUseIsRefusedNamingThePid) {
  ChildProcess& publisher = start("publisher", {"--count", "1", "--hold-ms", "-1"});
  ASSERT_TRUE(publisher.wait_for_line("PUBLISHED", patience));
  ChildProcess& holder = start("subscriber", {"--id", "dup", "--until-seq", "1", "--linger", "1"});
  ASSERT_TRUE(holder.wait_for_line("DONE", patience)) << holder.output();
  ChildProcess& twin = start("subscriber", {"--id", "dup", "--until-seq", "1"});
  EXPECT_EQ(twin.wait_exit(patience), 3);
  EXPECT_NE(twin.output().find("code=busy"), std::string::npos) << twin.output();
  EXPECT_NE(twin.output().find("in use by pid " + std::to_string(holder.pid())), std::string::npos) << twin.output();
  holder.signal(SIGTERM);
  EXPECT_EQ(holder.wait_exit(patience), 0);
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(PubSub, FanOutOnTheNotifierThreadDeliversTheFinalSnapshot) {
  ChildProcess& publisher =
      start("publisher", {"--count", "2000", "--wait-subscribers", "2", "--fan-out", "thread", "--hold-ms", "-1"});
  ASSERT_TRUE(publisher.wait_for_line("READY", patience));
  ChildProcess& first = start("subscriber", {"--id", "n1", "--until-seq", "2000"});
  ChildProcess& second = start("subscriber", {"--id", "n2", "--until-seq", "2000", "--mode", "hybrid"});
  for (ChildProcess* subscriber : {&first, &second}) {
    const auto done = subscriber->wait_for_line("DONE", patience);
    ASSERT_TRUE(done) << subscriber->output();
    EXPECT_EQ(field(*done, "final"), 2000);
    EXPECT_EQ(field(*done, "torn"), 0);
  }
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

}  // namespace
}  // namespace shmsnap::test
