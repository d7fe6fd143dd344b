// Socket mode end to end: the real shmsnap-publisher offering a topic on
// DIR/<topic>.sock and real shmsnap-subscriber daemons attaching through it (data,
// leaving and dying seen both ways, re-attach after a publisher restart), the
// kernel's read-only enforcement on the region a subscriber receives, and hostile
// peers on the socket (strangers, garbage, silence, a descriptor that is not a
// queue, a connect flood), none of which stops the publisher serving the others.
// Nothing of the test's prefix may appear in /dev/shm or /dev/mqueue: socket mode
// names nothing there.
#include <fcntl.h>
#include <linux/falloc.h>
#include <mqueue.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cli_test_support.hpp"
#include "shmsnap/detail/attach_handshake.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/subscriber.hpp"
#include "support/other_users.hpp"
#include "support/test_snapshot.hpp"
#include "transport/unix_socket.hpp"

namespace shmsnap::test {
namespace {

using namespace std::chrono_literals;
using detail::ReceivedFrame;
using detail::UniqueFd;
using nlohmann::json;

class SocketMode : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    std::string pattern = "/tmp/shmsnap-socket-mode-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    directory_ = pattern;
    // Other users (the stranger tests) must reach the socket inside.
    ASSERT_EQ(chmod(directory_.c_str(), 0755), 0);
  }
  void TearDown() override {
    // A publisher removes its socket when it shuts down cleanly (its lock file stays);
    // after a failure, children_.clear() kills the publishers instead.
    if (!HasFailure()) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(directory_)) {
        EXPECT_NE(entry.path().extension(), ".sock") << "left behind: " << entry.path();
      }
    }
    children_.clear();
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
    CliTest::TearDown();
  }

  ChildProcess& socket_publisher(const std::string& topic, std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--socket-dir", directory_, "--rate", "200"});
    return publisher(topic, "robot.pose", std::move(extra));
  }
  ChildProcess& socket_daemon(const std::string& topic, const std::string& id, std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--socket-dir", directory_});
    return daemon({topic}, id, std::move(extra));
  }
  // Starts bin_dir()/`binary` as uid:gid 65534 (nobody), its stderr in its output.
  ChildProcess& as_stranger(const std::string& binary, const std::vector<std::string>& arguments) {
    std::vector<std::string> command{"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", bin_dir() + "/" + binary};
    command.insert(command.end(), arguments.begin(), arguments.end());
    children_.emplace_back(std::make_unique<ChildProcess>(as_user(other_user, other_group, {}, std::move(command))));
    return *children_.back();
  }
  [[nodiscard]] std::string socket_of(const std::string& topic) const { return directory_ + "/" + topic + ".sock"; }

  // The publisher's `stats` lines until one says `subscribers=N`.
  static bool wait_for_subscribers(ChildProcess& feed, long long wanted) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::optional<std::string> line = feed.wait_for_line("stats ", patience);
      if (!line) {
        return false;
      }
      if (field(*line, "subscribers") == wanted) {
        return true;
      }
    }
    return false;
  }

  std::string directory_;
};

// A raw client's connection and the answer to its HELLO.
struct RawAttach {
  UniqueFd connection;  // the registration lasts while it is open
  std::optional<ReceivedFrame> answer;
};

// Connects and says HELLO with `queue` (-1: none) as a subscriber would.
RawAttach raw_hello(const std::string& path, const std::string& id, int queue) {
  UniqueFd connection = detail::connect_to_socket(path, 10s);
  const AttachHello hello{.flags = queue >= 0 ? hello_wants_notify : 0U, .id = id};
  std::vector<int> descriptors;
  if (queue >= 0) {
    descriptors.push_back(queue);
  }
  detail::send_attach_frame(connection.get(), hello, descriptors, 10s);
  std::optional<ReceivedFrame> answer =
      detail::receive_attach_frame(connection.get(), std::chrono::duration_cast<std::chrono::milliseconds>(patience));
  return RawAttach{std::move(connection), std::move(answer)};
}

TEST_F(SocketMode, DaemonsReadThroughTheSocketAndThePublisherSeesThemLeave) {
  ChildProcess& feed = socket_publisher("pose");
  ASSERT_TRUE(feed.wait_for_line("ready topic=pose", patience)) << feed.output();
  std::vector<ChildProcess*> followers{&socket_daemon("pose", "a", {"--count", "30"}),
                                       &socket_daemon("pose", "b", {"--count", "30"})};
  for (ChildProcess* follower : followers) {
    std::uint64_t last_seq = 0;
    for (int refresh = 0; refresh < 30; ++refresh) {
      const auto line = next_json(*follower, is_refresh);
      ASSERT_TRUE(line) << follower->output();
      EXPECT_EQ((*line)["data"]["frame_id"], "pose");
      EXPECT_GT((*line)["seq"].get<std::uint64_t>(), last_seq) << "sequences strictly increase";
      last_seq = (*line)["seq"];
    }
    EXPECT_EQ(follower->wait_exit(patience), 0) << follower->output();
  }
  // Both said BYE on their way out: the publisher's table is empty again.
  EXPECT_TRUE(wait_for_subscribers(feed, 0)) << feed.output();
  // Socket mode names nothing in /dev/shm or /dev/mqueue (TearDown checks the prefix).
  EXPECT_FALSE(std::filesystem::exists("/dev/shm/" + prefix_ + ":pose"));
  feed.signal(SIGTERM);
  EXPECT_EQ(feed.wait_exit(patience), 0) << feed.output();
}

TEST_F(SocketMode, DeathIsSeenBothWaysAndADaemonReattachesToARestartedPublisher) {
  ChildProcess& first = socket_publisher("pose");
  ASSERT_TRUE(first.wait_for_line("ready topic=pose", patience)) << first.output();
  ChildProcess& doomed = socket_daemon("pose", "doomed");
  ASSERT_TRUE(next_json(doomed, is_refresh)) << doomed.output();
  ChildProcess& follower = socket_daemon("pose", "survivor");
  const auto attached = next_json(follower, is_event("attached"));
  ASSERT_TRUE(attached) << follower.output();
  const auto first_epoch = (*attached)["epoch"].get<std::uint64_t>();
  ASSERT_TRUE(next_json(follower, is_refresh)) << follower.output();
  ASSERT_TRUE(wait_for_subscribers(first, 2)) << first.output();

  // A subscriber killed: its connection's EOF reaps it at once.
  doomed.signal(SIGKILL);
  ASSERT_EQ(doomed.wait_exit(patience), 128 + SIGKILL);
  EXPECT_TRUE(wait_for_subscribers(first, 1)) << first.output();

  // The publisher killed: the survivor sees the connection end, keeps its state stale.
  first.signal(SIGKILL);
  ASSERT_EQ(first.wait_exit(patience), 128 + SIGKILL);
  const auto lost = next_json(follower, is_event("publisher_lost"));
  ASSERT_TRUE(lost) << follower.output();
  EXPECT_EQ((*lost)["epoch"], first_epoch);

  // A new publisher takes the dead one's socket over; the survivor re-attaches.
  ChildProcess& second = socket_publisher("pose");
  ASSERT_TRUE(second.wait_for_line("ready topic=pose", patience)) << second.output();
  const auto back = next_json(follower, is_event("reattached"));
  ASSERT_TRUE(back) << follower.output();
  EXPECT_NE((*back)["epoch"], first_epoch);
  EXPECT_EQ((*back)["publisher_pid"], second.pid());
  const auto refresh = next_json(follower, is_refresh);
  ASSERT_TRUE(refresh) << follower.output();
  EXPECT_EQ((*refresh)["epoch"], (*back)["epoch"]);
  EXPECT_EQ((*refresh)["stale"], false);
  follower.signal(SIGTERM);
  EXPECT_EQ(follower.wait_exit(patience), 0);
  second.signal(SIGTERM);
  EXPECT_EQ(second.wait_exit(patience), 0) << second.output();
}

TEST_F(SocketMode, TheReceivedRegionCannotBeWrittenTruncatedOrReopenedWritable) {
  ChildProcess& feed = socket_publisher("pose");
  ASSERT_TRUE(feed.wait_for_line("ready topic=pose", patience)) << feed.output();
  const std::string queue_name = "/" + prefix_ + ":raw";
  mq_attr attributes{};
  attributes.mq_maxmsg = 1;
  attributes.mq_msgsize = sizeof(NotifyMessage);
  const mqd_t reader = mq_open(queue_name.c_str(), O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0600, &attributes);
  ASSERT_NE(reader, static_cast<mqd_t>(-1));
  const mqd_t writer = mq_open(queue_name.c_str(), O_WRONLY | O_CLOEXEC);
  mq_unlink(queue_name.c_str());
  ASSERT_NE(writer, static_cast<mqd_t>(-1));
  RawAttach attached = raw_hello(socket_of("pose"), "raw", writer);
  mq_close(writer);
  std::optional<ReceivedFrame>& answer = attached.answer;
  ASSERT_TRUE(answer);
  const auto* welcome = std::get_if<AttachWelcome>(&answer->frame);
  ASSERT_NE(welcome, nullptr);
  ASSERT_EQ(answer->descriptors.size(), 1U);
  const int region = answer->descriptors.front().get();

  // The kernel, not the library, refuses every way of writing it.
  errno = 0;
  EXPECT_EQ(mmap(nullptr, welcome->region_size, PROT_READ | PROT_WRITE, MAP_SHARED, region, 0), MAP_FAILED);
  EXPECT_EQ(errno, EPERM);
  const std::array<char, 4> junk{'j', 'u', 'n', 'k'};
  EXPECT_EQ(pwrite(region, junk.data(), junk.size(), 0), -1);
  EXPECT_EQ(ftruncate(region, 0), -1);
  // Nor can it zero pages under the others (a punched hole reads as zeros).
  EXPECT_EQ(fallocate(region, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), -1);
  const int reopened = open(("/proc/self/fd/" + std::to_string(region)).c_str(), O_RDWR | O_CLOEXEC);
  if (reopened >= 0) {  // a fresh open file description is under the same seals
    EXPECT_EQ(pwrite(reopened, junk.data(), junk.size(), 0), -1);
    EXPECT_EQ(mmap(nullptr, welcome->region_size, PROT_READ | PROT_WRITE, MAP_SHARED, reopened, 0), MAP_FAILED);
    close(reopened);
  }
  // Read-only works, and shows the publisher's layout.
  void* mapped = mmap(nullptr, welcome->region_size, PROT_READ, MAP_SHARED, region, 0);
  ASSERT_NE(mapped, MAP_FAILED);
  struct stat status {};
  ASSERT_EQ(fstat(region, &status), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(status.st_size), welcome->region_size);
  munmap(mapped, welcome->region_size);
  // And the publisher notifies the queue it was handed.
  std::array<char, sizeof(NotifyMessage)> message{};
  timespec deadline{};
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 60;
  EXPECT_EQ(mq_timedreceive(reader, message.data(), message.size(), nullptr, &deadline),
            static_cast<ssize_t>(sizeof(NotifyMessage)));
  mq_close(reader);
  feed.signal(SIGTERM);
  EXPECT_EQ(feed.wait_exit(patience), 0) << feed.output();
}

TEST_F(SocketMode, HostilePeersAreRefusedAndThePublisherKeepsServing) {
  ChildProcess& feed = socket_publisher("pose");
  ASSERT_TRUE(feed.wait_for_line("ready topic=pose", patience)) << feed.output();
  ChildProcess& follower = socket_daemon("pose", "steady");
  ASSERT_TRUE(next_json(follower, is_refresh)) << follower.output();
  const std::string path = socket_of("pose");

  // Garbage instead of a HELLO.
  {
    const UniqueFd connection = detail::connect_to_socket(path, 10s);
    const std::string garbage(64, 'x');
    ASSERT_EQ(write(connection.get(), garbage.data(), garbage.size()), static_cast<ssize_t>(garbage.size()));
    const auto answer = detail::receive_attach_frame(connection.get(), 60'000ms);
    ASSERT_TRUE(answer);
    const auto* rejected = std::get_if<AttachRejected>(&answer->frame);
    ASSERT_NE(rejected, nullptr);
    EXPECT_EQ(rejected->reason, AttachRejectReason::bad_request) << rejected->text;
  }
  // A regular file passed as the notify queue.
  {
    const int file = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(file, 0);
    const auto answer = raw_hello(path, "file", file).answer;
    close(file);
    ASSERT_TRUE(answer);
    const auto* rejected = std::get_if<AttachRejected>(&answer->frame);
    ASSERT_NE(rejected, nullptr);
    EXPECT_EQ(rejected->reason, AttachRejectReason::bad_queue);
    EXPECT_NE(rejected->text.find("not a message queue"), std::string::npos) << rejected->text;
  }
  // The id of a live subscriber.
  {
    const auto answer = raw_hello(path, "steady", -1).answer;
    ASSERT_TRUE(answer);
    const auto* rejected = std::get_if<AttachRejected>(&answer->frame);
    ASSERT_NE(rejected, nullptr);
    EXPECT_EQ(rejected->reason, AttachRejectReason::id_in_use) << rejected->text;
  }
  // A flood of silent connections: each is closed within the HELLO timeout (2 s).
  {
    std::vector<UniqueFd> silent;
    for (int connect = 0; connect < 48; ++connect) {
      try {
        silent.push_back(detail::connect_to_socket(path, 1000ms));
      } catch (const Error&) {
        // The backlog is full: refused by the kernel, as a flood should be.
      }
    }
    ASSERT_FALSE(silent.empty());
    for (const UniqueFd& connection : silent) {
      // REJECTED or a plain close: either way the publisher let go of it.
      try {
        const auto answer = detail::receive_attach_frame(connection.get(), 60'000ms);
        if (answer) {
          EXPECT_TRUE(std::holds_alternative<AttachRejected>(answer->frame));
        }
      } catch (const Error& failure) {
        EXPECT_NE(failure.code(), Errc::timed_out) << failure.what();
      }
    }
  }
  // The publisher's table shows the steady subscriber as connected and alive (its
  // liveness is its connection's, whatever its pid says here).
  {
    UntypedSubscriber inspector("pose", nullptr, SubscriberOptions{.id = "inspector", .socket_dir = directory_});
    ASSERT_NE(inspector.region(), nullptr);
    bool found = false;
    for (const SubscriberRow& row : inspector.region()->subscribers()) {
      if (row.id == "steady") {
        found = true;
        EXPECT_TRUE(row.connected);
        EXPECT_TRUE(row.alive);
      }
    }
    EXPECT_TRUE(found) << "the table does not list the steady subscriber";
  }
  // Through all of it the steady subscriber was served, and still is.
  const auto latest = next_json(follower, is_refresh);
  ASSERT_TRUE(latest) << follower.output();
  EXPECT_EQ((*latest)["stale"], false);
  follower.signal(SIGTERM);
  EXPECT_EQ(follower.wait_exit(patience), 0);
  feed.signal(SIGTERM);
  EXPECT_EQ(feed.wait_exit(patience), 0) << feed.output();
}

TEST_F(SocketMode, AStrangerIsRefusedUntilAllowedAndAnUntrustedPublisherIsNotFollowed) {
  if (!running_as_root()) {
    GTEST_SKIP() << "needs root to run processes as other users";
  }
  ChildProcess& feed = socket_publisher("pose");
  ASSERT_TRUE(feed.wait_for_line("ready topic=pose", patience)) << feed.output();
  // uid 65534 is outside the default policy (the publisher's own uid and root): the
  // daemon is told why and which option admits it, and gives up at its --timeout.
  ChildProcess& refused = as_stranger("shmsnap-subscriber", {"--topic", "pose", "--id", "stranger", "--socket-dir",
                                                             directory_, "--timeout", "3", "--log-level", "warn"});
  EXPECT_EQ(refused.wait_exit(patience), 4) << refused.output();
  EXPECT_NE(refused.output().find("not_admitted"), std::string::npos) << refused.output();
  EXPECT_NE(refused.output().find("--allow-uid " + std::to_string(other_user)), std::string::npos) << refused.output();

  // Allowed, the same user attaches.
  ChildProcess& open_feed = socket_publisher("open", {"--allow-uid", std::to_string(other_user)});
  ASSERT_TRUE(open_feed.wait_for_line("ready topic=open", patience)) << open_feed.output();
  ChildProcess& guest = as_stranger("shmsnap-subscriber", {"--topic", "open", "--id", "guest", "--socket-dir",
                                                           directory_, "--count", "5", "--log-level", "warn"});
  EXPECT_EQ(guest.wait_exit(patience), 0) << guest.output();

  // The other way round: a publisher of another user is not followed by default.
  const std::string their_directory = directory_ + "/theirs";
  ASSERT_EQ(mkdir(their_directory.c_str(), 0755), 0);
  ASSERT_EQ(chown(their_directory.c_str(), other_user, other_group), 0);
  ChildProcess& untrusted = as_stranger("shmsnap-publisher", {"--topic", "theirs", "--schema", "robot.pose",
                                                              "--socket-dir", their_directory, "--log-level", "warn"});
  ASSERT_TRUE(untrusted.wait_for_line("ready topic=theirs", patience)) << untrusted.output();
  try {
    UntypedSubscriber subscriber("theirs", nullptr, SubscriberOptions{.socket_dir = their_directory});
    ADD_FAILURE() << "attached to a publisher of an untrusted user";
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::permission_denied) << failure.what();
    EXPECT_NE(std::string(failure.what()).find("--trust-owner"), std::string::npos) << failure.what();
  }
  untrusted.signal(SIGTERM);
  EXPECT_EQ(untrusted.wait_exit(patience), 0) << untrusted.output();
  open_feed.signal(SIGTERM);
  EXPECT_EQ(open_feed.wait_exit(patience), 0);
  feed.signal(SIGTERM);
  EXPECT_EQ(feed.wait_exit(patience), 0);
}

}  // namespace
}  // namespace shmsnap::test
