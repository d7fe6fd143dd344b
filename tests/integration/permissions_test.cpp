// Permissions between users: root drops to other users with setpriv (skipped when
// not root); the region is read-only to readers and shared with a group.
#include "reliability_support.hpp"

namespace shmsnap::test {
namespace {

using namespace std::chrono_literals;

TEST_F(Reliability, SubscriberWithoutReadPermissionGetsPermissionDeniedNamingTheRegion) {
  if (!running_as_root()) {
    GTEST_SKIP() << "needs root to run a subscriber as another user";
  }
  ChildProcess& publisher = start("publisher", {"--count", "1", "--hold-ms", "-1"});
  ASSERT_TRUE(publisher.wait_for_line("PUBLISHED", patience)) << publisher.output();
  // Region 0640 root:root; `nobody` is neither owner nor in the group.
  ChildProcess& outsider =
      launch(as_user(other_user, other_group, {}, peer("subscriber", {"--id", "outsider", "--timeout-ms", "2000"})));
  const auto error = outsider.wait_for_line("ERROR", patience);
  ASSERT_TRUE(error) << outsider.output();
  EXPECT_NE(error->find("code=permission_denied"), std::string::npos) << *error;
  EXPECT_NE(error->find("EACCES"), std::string::npos) << *error;
  EXPECT_NE(error->find("/dev/shm/" + prefix_ + ":topic"), std::string::npos) << *error;
  EXPECT_EQ(outsider.wait_exit(patience), 3);
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(Reliability, ReaderMappingIsReadOnlySoAWriteThroughItFaults) {
  ChildProcess& publisher = start("publisher", {"--count", "5", "--hold-ms", "-1"});
  ASSERT_TRUE(publisher.wait_for_line("PUBLISHED", patience)) << publisher.output();
  const RegionReader reader = RegionReader::open(names_.region());
  const std::uint64_t before = reader.latest_seq();
  ASSERT_EQ(before, 5U);
  // The write happens in a forked child only: it must die of SIGSEGV.
  const ChildOutcome outcome = in_child([&](int) {
    // A sanitizer's own SIGSEGV handler would turn the fault into an exit code.
    signal(SIGSEGV, SIG_DFL);
    auto* word = const_cast<std::atomic<std::uint64_t>*>(&reader.header().published);
    word->store(0xdead'beef, std::memory_order_relaxed);
    return 0;  // reached only if the mapping was writable
  });
  EXPECT_TRUE(WIFSIGNALED(outcome.status) && WTERMSIG(outcome.status) == SIGSEGV)
      << "the reader's mapping accepted a write (wait status " << outcome.status << ")";
  EXPECT_EQ(reader.latest_seq(), before);
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(Reliability, GroupMembersShareATopicWithMode0640AndCannotWriteItsRegion) {
  if (!running_as_root()) {
    GTEST_SKIP() << "needs root to run publisher and subscriber as two other users";
  }
  // Publisher: user 1000 with the shared group as its group, so the region is
  // 0640 1000:<shared>. Subscriber: another user whose effective group is the
  // shared one (its notify queue then carries that group, and the publisher, a
  // member, may write it).
  ChildProcess& publisher = launch(as_user(
      publisher_user, shared_group, {},
      peer("publisher", {"--count", "2000", "--wait-subscribers", "1", "--interval-us", "100", "--hold-ms", "-1"})));
  ASSERT_TRUE(publisher.wait_for_line("READY", patience)) << publisher.output();
  ChildProcess& member = launch(as_user(
      other_user, shared_group, {shared_group},
      peer("subscriber", {"--id", "member", "--until-seq", "2000", "--trust-owner", std::to_string(publisher_user)})));
  const auto done = member.wait_for_line("DONE", patience);
  ASSERT_TRUE(done) << member.output();
  EXPECT_EQ(field(*done, "final"), 2000);
  EXPECT_EQ(field(*done, "torn"), 0);
  EXPECT_EQ(member.wait_exit(patience), 0);

  // Read-only sharing: a member cannot open the region for writing, nor read
  // (steal) the control queue, only write it; an outsider cannot even write it.
  EXPECT_EQ(probe_as(other_user, shared_group, {shared_group}, "shm-open", names_.region(), "ro"), "RESULT ok");
  EXPECT_EQ(probe_as(other_user, shared_group, {shared_group}, "shm-open", names_.region(), "rw"),
            "RESULT errno=EACCES");
  EXPECT_EQ(probe_as(other_user, shared_group, {shared_group}, "mq-open", names_.control_queue(), "w"), "RESULT ok");
  EXPECT_EQ(probe_as(other_user, shared_group, {shared_group}, "mq-open", names_.control_queue(), "r"),
            "RESULT errno=EACCES");
  EXPECT_EQ(probe_as(other_user, other_group, {}, "mq-open", names_.control_queue(), "w"), "RESULT errno=EACCES");
  EXPECT_EQ(probe_as(other_user, other_group, {}, "shm-open", names_.region(), "ro"), "RESULT errno=EACCES");
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

// Guards the fix for: the notify queue took its creator's primary group, so a
// member of the topic's group by a supplementary group only (the usual
// `usermod -aG`) made a queue the publisher could not write; attach timed out.
TEST_F(Reliability, SubscriberInTheTopicsGroupOnlyAsASupplementaryGroupAttaches) {
  if (!running_as_root()) {
    GTEST_SKIP() << "needs root to run publisher and subscriber as two other users";
  }
  ChildProcess& publisher =
      launch(as_user(publisher_user, shared_group, {},
                     peer("publisher", {"--count", "100", "--wait-subscribers", "1", "--hold-ms", "-1"})));
  ASSERT_TRUE(publisher.wait_for_line("READY", patience)) << publisher.output();
  ChildProcess& member = launch(as_user(other_user, other_group, {shared_group},
                                        peer("subscriber", {"--id", "supplementary", "--until-seq", "100",
                                                            "--trust-owner", std::to_string(publisher_user)})));
  const auto done = member.wait_for_line("DONE", patience);
  EXPECT_TRUE(done) << member.output();
  member.wait_exit(patience);
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

}  // namespace
}  // namespace shmsnap::test
