// Hostile control traffic: malformed, forged and flooding messages on a topic's
// queues leave the publisher publishing and its table bounded.
#include "reliability_support.hpp"

namespace shmsnap::test {
namespace {

using namespace std::chrono_literals;

ControlMessage hello_for(std::string_view id, pid_t pid, std::uint64_t epoch, std::uint64_t fingerprint) {
  return make_control(ControlKind::hello, id, pid, epoch, fingerprint, hello_wants_notify);
}

// A HELLO whose id field holds `raw` verbatim (make_control refuses invalid ids).
ControlMessage hello_with_raw_id(const std::string& raw, pid_t pid, std::uint64_t epoch, std::uint64_t fingerprint) {
  ControlMessage message = hello_for("x", pid, epoch, fingerprint);
  std::memset(message.id, 0, sizeof message.id);
  std::memcpy(message.id, raw.data(), std::min(raw.size(), sizeof message.id));
  return message;
}

TEST_F(Reliability, ControlQueueDropsEveryMessageTheProtocolDoesNotAllowAndLogsAtMostOncePerSecond) {
  StderrCapture captured;
  UntypedPublisher publisher("topic", TestSnapshot::shmsnap_schema, sizeof(TestSnapshot),
                             PublisherOptions{.prefix = prefix_, .max_subscribers = 4});
  const std::uint64_t epoch = publisher.epoch();
  const std::uint64_t fingerprint = TestSnapshot::shmsnap_schema.fingerprint;
  MessageQueue control = MessageQueue::open(names_.control_queue(), MessageQueue::Access::write, true);

  // What a hostile or broken peer may write, and each one the parser refuses.
  std::vector<std::vector<std::byte>> garbage;
  const auto add = [&](std::span<const std::byte> bytes) { garbage.emplace_back(bytes.begin(), bytes.end()); };
  const ControlMessage valid = hello_for("ok", getpid(), epoch, fingerprint);
  add(as_bytes(valid).first(10));                          // truncated
  add(as_bytes(valid).first(sizeof(ControlMessage) - 1));  // one byte short
  for (const char* escaping : {"../x", "a/b", "..", ".", "x/../../y", "", "a b", "\x01", "ok\xff"}) {
    const ControlMessage message = hello_with_raw_id(escaping, getpid(), epoch, fingerprint);
    add(as_bytes(message));
  }
  ControlMessage unterminated = hello_for("ok", getpid(), epoch, fingerprint);
  std::memset(unterminated.id, 'a', sizeof unterminated.id);
  ControlMessage bad_magic = valid;
  bad_magic.magic = 0x1234;
  ControlMessage bad_version = valid;
  bad_version.version = 9;
  ControlMessage bad_kind = valid;
  bad_kind.kind = static_cast<ControlKind>(7);
  ControlMessage zero_pid = valid;
  zero_pid.pid = 0;
  ControlMessage negative_pid = valid;
  negative_pid.pid = -1;
  for (const ControlMessage* message : {&unterminated, &bad_magic, &bad_version, &bad_kind, &zero_pid, &negative_pid}) {
    add(as_bytes(*message));
  }
  for (const auto& bytes : garbage) {
    EXPECT_FALSE(parse_control(bytes).valid()) << "accepted " << bytes.size() << " bytes";
  }

  // Oversized messages never reach the publisher: the kernel refuses them.
  std::vector<std::byte> oversized(sizeof(ControlMessage) + 1);
  EXPECT_EQ(control.send(oversized, control_priority), QueueStatus::too_large);

  // Flood: every kind of garbage, many times, while the publisher keeps publishing.
  const auto started = std::chrono::steady_clock::now();
  constexpr int rounds = 20;
  std::uint64_t last_seq = 0;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& bytes : garbage) {
      ASSERT_EQ(control.send_for(bytes, control_priority, patience), QueueStatus::ok);
    }
    const TestSnapshot snapshot{TestSnapshot::make(last_seq + 1)};
    const std::uint64_t seq = publisher.publish(&snapshot, sizeof snapshot);
    EXPECT_EQ(seq, last_seq + 1);
    last_seq = seq;
  }
  const std::uint64_t sent = garbage.size() * rounds;
  ASSERT_TRUE(eventually([&] { return publisher.stats().dropped_control >= sent; }))
      << "dropped " << publisher.stats().dropped_control << " of " << sent;
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(publisher.stats().dropped_control, sent);
  EXPECT_EQ(publisher.stats().subscribers, 0U);

  // The publisher still serves a real subscriber after the flood.
  auto subscriber = Subscriber<TestSnapshot>::open("topic", SubscriberOptions{.prefix = prefix_, .id = "after-flood"});
  EXPECT_EQ(subscriber.latest().seq, last_seq);
  EXPECT_TRUE(subscriber.latest().intact());
  publisher.shutdown();

  // Logged, but rate-limited: at most one line per second of flood (plus the first).
  const std::string log = captured.text();
  captured.restore();
  const std::size_t lines = count_lines_with(log, "dropped a control message");
  EXPECT_GE(lines, 1U) << log;
  EXPECT_LE(static_cast<double>(lines), elapsed_s + 2.0) << log;
}

TEST_F(Reliability, HelloFloodWithFakeIdsAndPidsKeepsTheTableBoundedAndPublishingGoing) {
  constexpr std::uint32_t table = 4;
  UntypedPublisher publisher("topic", TestSnapshot::shmsnap_schema, sizeof(TestSnapshot),
                             PublisherOptions{.prefix = prefix_, .max_subscribers = table});
  const std::uint64_t epoch = publisher.epoch();
  const std::uint64_t fingerprint = TestSnapshot::shmsnap_schema.fingerprint;
  MessageQueue control = MessageQueue::open(names_.control_queue(), MessageQueue::Access::write, true);

  // 1. Fake ids with queues the attacker made, naming a live pid (its own).
  constexpr int with_queue = 24;
  std::vector<MessageQueue> fake_queues;
  for (int index = 0; index < with_queue; ++index) {
    fake_queues.push_back(MessageQueue::create(
        names_.notify_queue("fake" + std::to_string(index)),
        MessageQueue::CreateOptions{.max_messages = 1, .message_size = sizeof(NotifyMessage), .mode = 0600}));
    ASSERT_EQ(control.send_for(as_bytes(hello_for("fake" + std::to_string(index), getpid(), epoch, fingerprint)),
                               control_priority, patience),
              QueueStatus::ok);
  }
  // 2. Fake ids without queues and pids that do not exist.
  constexpr int without_queue = 100;
  for (int index = 0; index < without_queue; ++index) {
    const pid_t no_such_pid = 4'000'000 + index;  // above pid_max's 2^22
    ASSERT_EQ(control.send_for(as_bytes(hello_for("ghost" + std::to_string(index), no_such_pid, epoch, fingerprint)),
                               control_priority, patience),
              QueueStatus::ok);
  }
  // 3. A wrong schema fingerprint and a stale epoch.
  ASSERT_EQ(
      control.send_for(as_bytes(hello_for("fake0", getpid(), epoch, fingerprint + 1)), control_priority, patience),
      QueueStatus::ok);
  std::uint64_t last_seq = 0;
  for (int index = 0; index < 1000; ++index) {
    const TestSnapshot snapshot{TestSnapshot::make(last_seq + 1)};
    last_seq = publisher.publish(&snapshot, sizeof snapshot);
  }
  EXPECT_EQ(last_seq, 1000U);
  ASSERT_TRUE(eventually([&] {
    const PublisherStats stats = publisher.stats();
    return stats.subscribers + stats.rejected >= with_queue && stats.dropped_control >= without_queue + 1;
  })) << "subscribers "
      << publisher.stats().subscribers << " rejected " << publisher.stats().rejected << " dropped "
      << publisher.stats().dropped_control;
  const PublisherStats stats = publisher.stats();
  EXPECT_EQ(stats.subscribers, table);
  EXPECT_EQ(stats.rejected, with_queue - table);
  EXPECT_EQ(stats.dropped_control, without_queue + 1U);
  // The region's mirrored table holds exactly the bounded set.
  EXPECT_EQ(RegionReader::open(names_.region()).subscribers().size(), table);
  publisher.shutdown();
  for (int index = 0; index < with_queue; ++index) {
    MessageQueue::unlink(names_.notify_queue("fake" + std::to_string(index)));
  }
}

TEST_F(Reliability, IdsThatWouldEscapeTheTopicNamespaceNeverOpenAQueue) {
  UntypedPublisher publisher("topic", TestSnapshot::shmsnap_schema, sizeof(TestSnapshot),
                             PublisherOptions{.prefix = prefix_});
  // Decoys where a naive name join of a hostile id could land.
  const std::vector<std::string> decoys{"/" + prefix_ + ":x", "/" + prefix_ + ":topic:x",
                                        "/" + prefix_ + ":other:sub:victim", "/" + prefix_ + ":topic:sub"};
  std::vector<MessageQueue> decoy_queues;
  for (const std::string& decoy : decoys) {
    decoy_queues.push_back(MessageQueue::create(
        decoy, MessageQueue::CreateOptions{.max_messages = 1, .message_size = sizeof(NotifyMessage), .mode = 0600}));
  }
  MessageQueue control = MessageQueue::open(names_.control_queue(), MessageQueue::Access::write, true);
  const std::vector<std::string> hostile{"../x", "a/b", "..", ".", "../other:sub:victim", "/x", "x/", "../../x", "x:y"};
  for (const std::string& id : hostile) {
    ASSERT_EQ(control.send_for(as_bytes(hello_with_raw_id(id, getpid(), publisher.epoch(),
                                                          TestSnapshot::shmsnap_schema.fingerprint)),
                               control_priority, patience),
              QueueStatus::ok);
    const Parsed<ControlMessage> parsed = parse_control(as_bytes(hello_with_raw_id(id, getpid(), 1, 1)));
    EXPECT_FALSE(parsed.valid()) << id;
    EXPECT_NE(parsed.problem.find("invalid subscriber id"), std::string::npos) << id << ": " << parsed.problem;
  }
  ASSERT_TRUE(eventually([&] { return publisher.stats().dropped_control >= hostile.size(); }));
  const TestSnapshot snapshot{TestSnapshot::make(1)};
  publisher.publish(&snapshot, sizeof snapshot);
  EXPECT_EQ(publisher.stats().subscribers, 0U);
  for (MessageQueue& decoy : decoy_queues) {
    EXPECT_EQ(decoy.attributes().pending, 0) << decoy.name() << " received something";
  }
  publisher.shutdown();
  for (const std::string& decoy : decoys) {
    MessageQueue::unlink(decoy);
  }
}

// Guards the fix for this bug: BYE carries no proof of who sends it,
// and the pid of every subscriber is in the world-readable region table, so any
// process that may write the control queue unregisters any subscriber.
TEST_F(Reliability, SpoofedByeDoesNotUnregisterALiveSubscriber) {
  UntypedPublisher publisher("topic", TestSnapshot::shmsnap_schema, sizeof(TestSnapshot),
                             PublisherOptions{.prefix = prefix_});
  ChildProcess& victim = start("subscriber", {"--id", "victim", "--linger", "1"});
  ASSERT_TRUE(victim.wait_for_line("DONE", patience)) << victim.output();
  ASSERT_TRUE(eventually([&] { return publisher.stats().subscribers == 1; }));

  MessageQueue control = MessageQueue::open(names_.control_queue(), MessageQueue::Access::write, true);
  const ControlMessage bye = make_control(ControlKind::bye, "victim", victim.pid(), publisher.epoch(),
                                          TestSnapshot::shmsnap_schema.fingerprint, 0);
  ASSERT_EQ(control.send_for(as_bytes(bye), control_priority, patience), QueueStatus::ok);
  // A BYE is handled within one control-loop pass; give it plenty.
  eventually([&] { return publisher.stats().subscribers == 0; }, 2000ms);
  EXPECT_EQ(publisher.stats().subscribers, 1U) << "a forged BYE unregistered a live subscriber";
  victim.signal(SIGTERM);
  EXPECT_EQ(victim.wait_exit(patience), 0);
  publisher.shutdown();
}

// Guards the fix for this bug: a SHUTDOWN message alone makes a
// subscriber stale, and a stale subscriber never re-attaches to the same live
// region (same inode and epoch), so one forged message strands it for good.
TEST_F(Reliability, ForgedShutdownDoesNotStrandASubscriberOfALivePublisher) {
  UntypedPublisher publisher("topic", TestSnapshot::shmsnap_schema, sizeof(TestSnapshot),
                             PublisherOptions{.prefix = prefix_});
  auto subscriber = Subscriber<TestSnapshot>::open("topic", SubscriberOptions{.prefix = prefix_, .id = "victim"});
  MessageQueue queue = MessageQueue::open(names_.notify_queue("victim"), MessageQueue::Access::write, true);
  NotifyMessage forged;
  forged.kind = NotifyKind::shutdown;
  forged.epoch = publisher.epoch();
  ASSERT_EQ(queue.send_for(as_bytes(forged), control_priority, patience), QueueStatus::ok);
  subscriber.wait(100ms);

  const TestSnapshot snapshot{TestSnapshot::make(1)};
  publisher.publish(&snapshot, sizeof snapshot);
  // The re-attach timer runs every 50 ms: 5 s is a hundred chances to recover.
  const bool followed = eventually(
      [&] {
        subscriber.wait(20ms);
        return !subscriber.stale() && subscriber.latest().seq == 1;
      },
      5000ms);
  EXPECT_TRUE(followed) << "stale=" << subscriber.stale() << " seq=" << subscriber.latest().seq;
  publisher.shutdown();
}

// Guards the fix for this weakness: the control thread waits up to
// 200 ms for room in each HELLO sender's queue, so HELLOs naming queues their
// sender keeps full stall registration for everyone else.
TEST_F(Reliability, HellosAimedAtFullQueuesDoNotStallAnotherSubscribersAttach) {
  UntypedPublisher publisher("topic", TestSnapshot::shmsnap_schema, sizeof(TestSnapshot),
                             PublisherOptions{.prefix = prefix_});
  MessageQueue control = MessageQueue::open(names_.control_queue(), MessageQueue::Access::write, true);
  constexpr int stallers = 20;
  std::vector<MessageQueue> full_queues;
  for (int index = 0; index < stallers; ++index) {
    const std::string id = "full" + std::to_string(index);
    full_queues.push_back(MessageQueue::create(
        names_.notify_queue(id), MessageQueue::CreateOptions{.max_messages = 1,
                                                             .message_size = sizeof(NotifyMessage),
                                                             .mode = 0600,
                                                             .access = MessageQueue::Access::read_write}));
    NotifyMessage filler;
    ASSERT_EQ(full_queues.back().send(as_bytes(filler), 0), QueueStatus::ok);  // never drained
    ASSERT_EQ(
        control.send_for(as_bytes(hello_for(id, getpid(), publisher.epoch(), TestSnapshot::shmsnap_schema.fingerprint)),
                         control_priority, patience),
        QueueStatus::ok);
  }
  try {
    auto subscriber = Subscriber<TestSnapshot>::open(
        "topic", SubscriberOptions{.prefix = prefix_, .id = "legit", .attach_timeout = 2000ms});
    SUCCEED();
  } catch (const Error& failure) {
    ADD_FAILURE() << "a legitimate subscriber could not attach behind " << stallers
                  << " HELLOs to full queues: " << failure.what();
  }
  publisher.shutdown();
  for (int index = 0; index < stallers; ++index) {
    MessageQueue::unlink(names_.notify_queue("full" + std::to_string(index)));
  }
}

}  // namespace
}  // namespace shmsnap::test
