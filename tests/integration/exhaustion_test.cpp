// Exhausted resources: a full /dev/shm, the mqueue bytes limit, the subscriber
// table bound: each a clear error naming the limit, nothing lost.
#include "reliability_support.hpp"

namespace shmsnap::test {
namespace {

using namespace std::chrono_literals;

// In a child with a private mount namespace and an 8 MiB tmpfs on /dev/shm (so the
// host's /dev/shm is never filled), runs `body`; skipped unless root.
ChildOutcome with_small_dev_shm(const std::function<int(int)>& body) {
  return in_child([&](int fd) {
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=8m,mode=1777") != 0) {
      write_text(fd, std::string("SETUP ") + std::strerror(errno));
      return 97;
    }
    return body(fd);
  });
}

TEST_F(Reliability, RegionLargerThanFreeShmIsRefusedAtCreateWithAClearError) {
  if (!running_as_root()) {
    GTEST_SKIP() << "needs root for a private, small /dev/shm";
  }
  const ChildOutcome outcome = with_small_dev_shm([&](int fd) {
    constexpr std::size_t payload = 6 << 20;  // 3 slots x 6 MiB = 18 MiB > 8 MiB
    try {
      UntypedPublisher publisher("topic", big_schema(payload), payload, PublisherOptions{.prefix = prefix_});
      write_text(fd, "CREATED");
      return 1;
    } catch (const Error& failure) {
      write_text(fd, std::string(to_string(failure.code())) + " " + failure.what());
      std::error_code ignored;
      const bool empty = std::filesystem::is_empty("/dev/shm", ignored);
      return failure.code() == Errc::out_of_space && empty ? 0 : 2;
    }
  });
  EXPECT_TRUE(WIFEXITED(outcome.status) && WEXITSTATUS(outcome.status) == 0)
      << "status " << outcome.status << ": " << outcome.text;
  EXPECT_NE(outcome.text.find("out_of_space"), std::string::npos) << outcome.text;
  EXPECT_NE(outcome.text.find("/dev/shm/" + prefix_ + ":topic"), std::string::npos) << outcome.text;
  EXPECT_NE(outcome.text.find("shm-size"), std::string::npos) << outcome.text;
  remove_leftovers(prefix_);  // the control queue is never made, but be sure
}

TEST_F(Reliability, ARegionThatFitsKeepsPublishingWhenShmFillsUpLater) {
  if (!running_as_root()) {
    GTEST_SKIP() << "needs root for a private, small /dev/shm";
  }
  const ChildOutcome outcome = with_small_dev_shm([&](int fd) {
    constexpr std::size_t payload = 1 << 20;  // 3 slots x 1 MiB: fits in 8 MiB
    UntypedPublisher publisher("topic", big_schema(payload), payload, PublisherOptions{.prefix = prefix_});
    // Someone else fills the rest of /dev/shm.
    const int filler = open("/dev/shm/filler", O_CREAT | O_WRONLY, 0600);
    const std::vector<char> chunk(1 << 16, 'x');
    while (write(filler, chunk.data(), chunk.size()) > 0) {
    }
    close(filler);
    // Every slot's pages were reserved at create: no SIGBUS now.
    const std::vector<std::byte> bytes(payload, std::byte{0x5a});
    for (int index = 0; index < 6; ++index) {
      publisher.publish(bytes.data(), bytes.size());
    }
    write_text(fd, "PUBLISHED " + std::to_string(publisher.last_seq()));
    publisher.shutdown();
    return 0;
  });
  EXPECT_TRUE(WIFEXITED(outcome.status) && WEXITSTATUS(outcome.status) == 0)
      << "status " << outcome.status
      << (WIFSIGNALED(outcome.status) && WTERMSIG(outcome.status) == SIGBUS ? " (SIGBUS)" : "") << ": " << outcome.text;
  EXPECT_EQ(outcome.text, "PUBLISHED 6");
  remove_leftovers(prefix_);  // a SIGBUS child leaves its control queue
}

TEST_F(Reliability, ExhaustedMessageQueueBytesLimitGivesAClearErrorNamingTheLimit) {
  // RLIMIT_MSGQUEUE binds root too; set it to 0 in a child so no queue fits.
  const auto exhausted = [](const std::function<void()>& attempt) {
    return in_child([&](int fd) {
      const rlimit none{0, 0};
      if (setrlimit(RLIMIT_MSGQUEUE, &none) != 0) {
        return 97;
      }
      try {
        attempt();
        write_text(fd, "SUCCEEDED");
        return 1;
      } catch (const Error& failure) {
        write_text(fd, std::string(to_string(failure.code())) + " " + failure.what());
        return 0;
      }
    });
  };
  // The publisher's control queue.
  const ChildOutcome publisher_side = exhausted([&] {
    UntypedPublisher publisher("topic", TestSnapshot::shmsnap_schema, sizeof(TestSnapshot),
                               PublisherOptions{.prefix = prefix_});
  });
  EXPECT_TRUE(WIFEXITED(publisher_side.status) && WEXITSTATUS(publisher_side.status) == 0) << publisher_side.text;
  EXPECT_EQ(publisher_side.text.rfind("limit_exceeded", 0), 0U) << publisher_side.text;
  EXPECT_NE(publisher_side.text.find("RLIMIT_MSGQUEUE"), std::string::npos) << publisher_side.text;
  EXPECT_TRUE(leftovers(prefix_).empty()) << "a refused publisher left its region behind";

  // A subscriber's notify queue, against a live publisher in another process.
  ChildProcess& publisher = start("publisher", {"--count", "1", "--hold-ms", "-1"});
  ASSERT_TRUE(publisher.wait_for_line("PUBLISHED", patience)) << publisher.output();
  const ChildOutcome subscriber_side = exhausted([&] {
    auto subscriber = Subscriber<TestSnapshot>::open("topic", SubscriberOptions{.prefix = prefix_, .id = "starved"});
  });
  EXPECT_TRUE(WIFEXITED(subscriber_side.status) && WEXITSTATUS(subscriber_side.status) == 0) << subscriber_side.text;
  EXPECT_EQ(subscriber_side.text.rfind("limit_exceeded", 0), 0U) << subscriber_side.text;
  EXPECT_NE(subscriber_side.text.find("RLIMIT_MSGQUEUE"), std::string::npos) << subscriber_side.text;
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

TEST_F(Reliability, SubscriberBeyondMaxSubscribersGetsLimitExceeded) {
  ChildProcess& publisher = start("publisher", {"--count", "1", "--max-subscribers", "2", "--hold-ms", "-1"});
  ASSERT_TRUE(publisher.wait_for_line("PUBLISHED", patience)) << publisher.output();
  ChildProcess& first = start("subscriber", {"--id", "first", "--until-seq", "1", "--linger", "1"});
  ChildProcess& second = start("subscriber", {"--id", "second", "--until-seq", "1", "--linger", "1"});
  ASSERT_TRUE(first.wait_for_line("DONE", patience)) << first.output();
  ASSERT_TRUE(second.wait_for_line("DONE", patience)) << second.output();
  ChildProcess& third = start("subscriber", {"--id", "third", "--until-seq", "1"});
  const auto error = third.wait_for_line("ERROR", patience);
  ASSERT_TRUE(error) << third.output();
  EXPECT_NE(error->find("code=limit_exceeded"), std::string::npos) << *error;
  EXPECT_NE(error->find("max_subscribers"), std::string::npos) << *error;
  EXPECT_EQ(third.wait_exit(patience), 3);
  // The two registered subscribers are untouched.
  first.signal(SIGTERM);
  second.signal(SIGTERM);
  EXPECT_EQ(first.wait_exit(patience), 0);
  EXPECT_EQ(second.wait_exit(patience), 0);
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0);
}

}  // namespace
}  // namespace shmsnap::test
