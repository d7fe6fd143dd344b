// The POSIX message queue wrapper: limits are read, clamped or named; priorities order delivery.
#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/error.hpp"
#include "support/process_runner.hpp"

namespace shmsnap {
namespace {

std::span<const std::byte> text(const char* value) {
  return {reinterpret_cast<const std::byte*>(value), std::strlen(value)};
}

class MessageQueueTest : public ::testing::Test {
 protected:
  void TearDown() override { MessageQueue::unlink(name_); }
  const std::string name_ = "/" + test::unique_prefix() + ".q";
};

TEST_F(MessageQueueTest, DeliversHigherPriorityFirstAndOldestFirstWithinAPriority) {
  MessageQueue queue =
      MessageQueue::create(name_, {.max_messages = 3, .message_size = 16, .access = MessageQueue::Access::read_write});
  ASSERT_EQ(queue.send(text("low-1"), 0), QueueStatus::ok);
  ASSERT_EQ(queue.send(text("high"), 5), QueueStatus::ok);
  ASSERT_EQ(queue.send(text("low-2"), 0), QueueStatus::ok);
  EXPECT_EQ(queue.send(text("overflow"), 9), QueueStatus::full);
  std::array<std::byte, 16> buffer{};
  std::vector<std::string> order;
  for (int index = 0; index < 3; ++index) {
    const Received received = queue.receive(buffer);
    ASSERT_EQ(received.status, QueueStatus::ok);
    order.emplace_back(reinterpret_cast<const char*>(buffer.data()), received.size);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"high", "low-1", "low-2"}));
  EXPECT_EQ(queue.receive(buffer).status, QueueStatus::empty);
}

TEST_F(MessageQueueTest, ClampsToTheKernelLimitsUnlessAskedToBeStrict) {
  const MqLimits limits = MqLimits::read();
  MessageQueue clamped = MessageQueue::create(name_, {.max_messages = limits.msg_max + 100, .message_size = 8});
  EXPECT_EQ(clamped.attributes().max_messages, limits.msg_max);
  clamped.close();
  MessageQueue::unlink(name_);
  try {
    (void)MessageQueue::create(name_, {.max_messages = limits.msg_max + 1, .message_size = 8, .strict_limits = true});
    FAIL() << "a queue over fs.mqueue.msg_max was created";
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::limit_exceeded);
    EXPECT_NE(std::string(failure.what()).find("fs.mqueue.msg_max"), std::string::npos) << failure.what();
    EXPECT_NE(std::string(failure.what()).find("sysctl"), std::string::npos) << failure.what();
  }
  try {
    (void)MessageQueue::create(name_, {.message_size = limits.msgsize_max + 1, .strict_limits = true});
    FAIL() << "a queue over fs.mqueue.msgsize_max was created";
  } catch (const Error& failure) {
    EXPECT_NE(std::string(failure.what()).find("fs.mqueue.msgsize_max"), std::string::npos) << failure.what();
  }
}

TEST_F(MessageQueueTest, RefusesNamesWithoutALeadingSlashStatingTheRule) {
  try {
    (void)MessageQueue::create("no-slash", {});
    FAIL();
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::invalid_argument);
    EXPECT_NE(std::string(failure.what()).find("must start with '/'"), std::string::npos);
  }
}

TEST_F(MessageQueueTest, ExclusiveCreateOfAnExistingNameIsBusy) {
  MessageQueue first = MessageQueue::create(name_, {});
  try {
    (void)MessageQueue::create(name_, {});
    FAIL();
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::busy);
  }
}

TEST_F(MessageQueueTest, TimedReceiveReturnsEmptyAfterItsTimeout) {
  MessageQueue queue = MessageQueue::create(name_, {});
  std::array<std::byte, 64> buffer{};
  EXPECT_EQ(queue.receive_for(buffer, std::chrono::milliseconds(20)).status, QueueStatus::empty);
}

}  // namespace
}  // namespace shmsnap
