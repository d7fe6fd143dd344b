// The socket mode's transport across processes (forked, not exec'd: these are the
// building blocks, before the publisher and subscriber use them): the topic socket
// at DIR/<topic>.sock, a notify queue made in the subscriber's own IPC namespace
// and passed over it, and hostile clients: planted files, garbage, descriptors that
// are not queues, silence, floods. Every descriptor the code under test received is
// shown closed (the write end of a pipe it was given: the read end sees EOF).
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "region/region_writer.hpp"
#include "region/shared_memory.hpp"
#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/region.hpp"
#include "support/process_runner.hpp"
#include "support/test_snapshot.hpp"
#include "transport/admission_policy.hpp"
#include "transport/unix_socket.hpp"

namespace shmsnap::detail {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int skipped_exit = 77;

// A private socket directory per test, removed with everything in it.
class SocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = "/tmp/shmsnap-sock-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    directory_ = pattern;
  }
  void TearDown() override {
    for (const pid_t child : children_) {
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }

  // Forks `body` (its return value is the exit status); killed in TearDown if still running.
  template <class Body>
  pid_t fork_child(Body body) {
    const pid_t child = fork();
    if (child == 0) {
      int status = 1;
      try {
        status = body();
      } catch (...) {
        status = 2;
      }
      _exit(status);
    }
    EXPECT_GT(child, 0);
    children_.push_back(child);
    return child;
  }

  // The child's exit status, waiting at most `patience`.
  int wait_child(pid_t child, std::chrono::milliseconds patience = 30s) {
    const auto deadline = Clock::now() + patience;
    while (Clock::now() < deadline) {
      int status = 0;
      const pid_t done = waitpid(child, &status, WNOHANG);
      if (done == child) {
        std::erase(children_, child);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      usleep(2000);
    }
    ADD_FAILURE() << "child " << child << " did not exit in time";
    return -1;
  }

  std::string directory_;
  std::vector<pid_t> children_;
};

// A pipe whose write end we hand to the code under test: once every copy of it is
// closed, the read end reports hang-up. That is how a test sees that the code
// closed the descriptors it received, without counting the process's descriptors.
struct WatchedDescriptor {
  WatchedDescriptor() {
    int ends[2];
    EXPECT_EQ(pipe2(ends, O_CLOEXEC | O_NONBLOCK), 0);
    read_end.reset(ends[0]);
    write_end.reset(ends[1]);
  }
  // True once no process holds the write end any more (waits up to `patience`).
  bool all_closed(std::chrono::milliseconds patience = 5s) const {
    pollfd entry{read_end.get(), POLLIN, 0};
    return poll(&entry, 1, static_cast<int>(patience.count())) == 1 && (entry.revents & POLLHUP) != 0;
  }
  UniqueFd read_end;
  UniqueFd write_end;
};

// Sends `bytes` with `descriptors` attached in one raw sendmsg (as a hostile peer
// would, with any count).
void raw_send(int socket, std::span<const std::byte> bytes, const std::vector<int>& descriptors) {
  iovec part{const_cast<std::byte*>(bytes.data()), bytes.size()};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * descriptors.size()));
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  if (!descriptors.empty()) {
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * descriptors.size());
    std::memcpy(CMSG_DATA(header), descriptors.data(), sizeof(int) * descriptors.size());
  }
  ASSERT_EQ(sendmsg(socket, &message, MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size())) << strerror(errno);
}

std::pair<UniqueFd, UniqueFd> socket_pair() {
  int ends[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ends), 0);
  return {UniqueFd(ends[0]), UniqueFd(ends[1])};
}

// Expects receive_attach_frame to refuse with `code` and a message containing `reason`.
void expect_refused(int socket, Errc code, const std::string& reason, std::chrono::milliseconds timeout = 2s) {
  try {
    auto received = receive_attach_frame(socket, timeout);
    ADD_FAILURE() << "accepted " << (received ? "a frame" : "EOF") << " where '" << reason << "' was due";
  } catch (const Error& refused) {
    EXPECT_EQ(refused.code(), code) << refused.what();
    EXPECT_NE(std::string(refused.what()).find(reason), std::string::npos) << refused.what();
  }
}

RegionSpec test_spec() {
  RegionSpec spec;
  spec.shm_name = "/socket-attach-test";
  spec.topic = "socket-attach-test";
  spec.payload_size = sizeof(test::TestSnapshot);
  spec.schema = test::TestSnapshot::shmsnap_schema;
  return spec;
}

TEST_F(SocketTest, APlantedFileFifoOrLinkAtTheSocketPathIsRefusedAndLeftAlone) {
  const std::string path = socket_path(directory_, "topic");
  const std::string target = directory_ + "/target";
  ASSERT_EQ(symlink(target.c_str(), path.c_str()), 0);
  try {
    (void)SocketListener::create(directory_, "topic");
    ADD_FAILURE() << "a listener was created over a planted link";
  } catch (const Error& refused) {
    EXPECT_EQ(refused.code(), Errc::invalid_argument);
    EXPECT_NE(std::string(refused.what()).find("a symbolic link"), std::string::npos) << refused.what();
  }
  struct stat status {};
  EXPECT_EQ(lstat(path.c_str(), &status), 0);
  EXPECT_TRUE(S_ISLNK(status.st_mode)) << "the planted link was removed";
  EXPECT_NE(lstat(target.c_str(), &status), 0) << "the link was followed";
  ASSERT_EQ(unlink(path.c_str()), 0);

  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  EXPECT_THROW((void)SocketListener::create(directory_, "topic"), Error);
  EXPECT_EQ(lstat(path.c_str(), &status), 0);
  EXPECT_TRUE(S_ISFIFO(status.st_mode));
  ASSERT_EQ(unlink(path.c_str()), 0);

  // A link planted at the lock file's name is not followed either.
  ASSERT_EQ(unlink((path + ".lock").c_str()), 0);
  ASSERT_EQ(symlink(target.c_str(), (path + ".lock").c_str()), 0);
  EXPECT_THROW((void)SocketListener::create(directory_, "topic"), Error);
  EXPECT_NE(lstat(target.c_str(), &status), 0) << "the lock file's link was followed";
}

TEST_F(SocketTest, ALiveListenerIsRefusedNamingItsPidAndAKilledOnesSocketIsTakenOver) {
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  const pid_t holder = fork_child([&] {
    SocketListener listener = SocketListener::create(directory_, "topic");
    const char byte = 1;
    (void)!write(ready[1], &byte, 1);
    pause();
    return 0;
  });
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  try {
    (void)SocketListener::create(directory_, "topic");
    ADD_FAILURE() << "a second listener was created on a live topic";
  } catch (const Error& refused) {
    EXPECT_EQ(refused.code(), Errc::busy) << refused.what();
  }
  // A connection reaches it, and SO_PEERCRED names the holder.
  const UniqueFd connection = connect_to_socket(socket_path(directory_, "topic"), 5s);
  EXPECT_EQ(peer_credentials(connection.get()).pid, holder);
  EXPECT_EQ(peer_credentials(connection.get()).uid, geteuid());

  kill(holder, SIGKILL);
  EXPECT_EQ(wait_child(holder), 128 + SIGKILL);
  struct stat before {};
  ASSERT_EQ(lstat(socket_path(directory_, "topic").c_str(), &before), 0) << "a killed listener leaves its socket";
  SocketListener successor = SocketListener::create(directory_, "topic");
  struct stat after {};
  ASSERT_EQ(lstat(successor.path().c_str(), &after), 0);
  EXPECT_TRUE(S_ISSOCK(after.st_mode));
  EXPECT_EQ(after.st_mode & 07777, 0666U);
  // The socket there now is the successor's (a filesystem may reuse the inode number).
  const UniqueFd reconnected = connect_to_socket(successor.path(), 5s);
  EXPECT_EQ(peer_credentials(reconnected.get()).pid, getpid());
}

TEST_F(SocketTest, ASocketThatAcceptsIsLiveEvenWithoutTheLockAndOneThatRefusesIsStale) {
  // A listener that does not take the lock (another implementation, an older
  // version): liveness is decided by connecting.
  const std::string path = socket_path(directory_, "topic");
  UniqueFd foreign(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(bind(foreign.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(foreign.get(), 4), 0);
  try {
    (void)SocketListener::create(directory_, "topic");
    ADD_FAILURE() << "a listener was created over a live socket";
  } catch (const Error& refused) {
    EXPECT_EQ(refused.code(), Errc::busy);
    EXPECT_NE(std::string(refused.what()).find("pid " + std::to_string(getpid())), std::string::npos) << refused.what();
  }
  foreign.reset();  // bound but no longer listening: what a dead publisher leaves
  SocketListener listener = SocketListener::create(directory_, "topic");
  listener = SocketListener();
  struct stat status {};
  EXPECT_NE(lstat(path.c_str(), &status), 0) << "a closed listener left its socket";
}

TEST_F(SocketTest, AQueueMadeInTheSubscribersOwnIpcNamespaceCarriesTheNotificationOverThePassedDescriptor) {
  SocketListener listener = SocketListener::create(directory_, "topic");
  RegionWriter region = RegionWriter::create_sealed(test_spec(), 3);
  const std::string path = listener.path();
  const pid_t subscriber = fork_child([&] {
    // The child leaves `listener` alone: it ends with _exit, so the parent's
    // socket is neither closed nor unlinked by a destructor here.
    if (unshare(CLONE_NEWIPC) != 0) {
      return skipped_exit;
    }
    const std::string name = "/shmsnap-sock-test-" + std::to_string(getpid());
    mq_attr attributes{};
    attributes.mq_maxmsg = 1;
    attributes.mq_msgsize = sizeof(NotifyMessage);
    const mqd_t reader = mq_open(name.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attributes);
    const mqd_t writer = mq_open(name.c_str(), O_WRONLY | O_CLOEXEC);
    if (reader < 0 || writer < 0 || mq_unlink(name.c_str()) != 0) {
      return 3;
    }
    const UniqueFd connection = connect_to_socket(path, 10s);
    const int passed = writer;
    send_attach_frame(connection.get(), AttachHello{hello_wants_notify, 1, 0, 0, "sub-1"}, std::span(&passed, 1), 10s);
    close(writer);
    auto welcome = receive_attach_frame(connection.get(), 10s);
    if (!welcome || !std::holds_alternative<AttachWelcome>(welcome->frame)) {
      return 4;
    }
    const auto& accepted = std::get<AttachWelcome>(welcome->frame);
    const SharedMemory memory =
        SharedMemory::adopt_sealed(welcome->descriptors[0].release(), accepted.region_size, accepted.region_size);
    if (!RegionReader::validate(static_cast<const std::byte*>(memory.address()), memory.mapped_size()).valid()) {
      return 5;
    }
    NotifyMessage notification;
    timespec deadline{};
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    if (mq_timedreceive(reader, reinterpret_cast<char*>(&notification), sizeof notification, nullptr, &deadline) !=
        static_cast<ssize_t>(sizeof notification)) {
      return 6;
    }
    return notification.seq == 42 && notification.epoch == accepted.epoch ? 0 : 7;
  });
  auto connection = listener.accept(10s);
  if (!connection) {
    const int status = wait_child(subscriber);
    if (status == skipped_exit) {
      GTEST_SKIP() << "unshare(CLONE_NEWIPC) is not permitted here (needs CAP_SYS_ADMIN or a user namespace)";
    }
    FAIL() << "the subscriber never connected; it exited with " << status;
  }
  const PeerCredentials peer = peer_credentials(connection->get());
  EXPECT_EQ(peer.pid, subscriber);
  EXPECT_EQ(peer.uid, geteuid());
  auto hello = receive_attach_frame(connection->get(), 10s);
  ASSERT_TRUE(hello.has_value());
  ASSERT_TRUE(std::holds_alternative<AttachHello>(hello->frame));
  EXPECT_EQ(std::get<AttachHello>(hello->frame).id, "sub-1");
  ASSERT_EQ(hello->descriptors.size(), 1U);
  const UniqueFd queue = std::move(hello->descriptors[0]);
  check_notify_queue_descriptor(queue.get(), sizeof(NotifyMessage));
  // The queue lives in the subscriber's namespace, not in ours.
  std::array<char, 64> ours{};
  std::array<char, 64> theirs{};
  ASSERT_GT(readlink("/proc/self/ns/ipc", ours.data(), ours.size() - 1), 0);
  ASSERT_GT(readlink(("/proc/" + std::to_string(subscriber) + "/ns/ipc").c_str(), theirs.data(), theirs.size() - 1), 0);
  EXPECT_STRNE(ours.data(), theirs.data());

  struct stat status {};
  ASSERT_EQ(fstat(region.descriptor(), &status), 0);
  const int region_descriptor = region.descriptor();
  send_attach_frame(
      connection->get(),
      AttachWelcome{region.epoch(), static_cast<std::uint64_t>(status.st_size), test_spec().schema.fingerprint},
      std::span(&region_descriptor, 1), 10s);
  NotifyMessage update;
  update.seq = 42;
  update.epoch = region.epoch();
  EXPECT_EQ(shmsnap::MessageQueue::send_to(queue.get(), as_bytes(update), update_priority), shmsnap::QueueStatus::ok);
  EXPECT_EQ(wait_child(subscriber), 0) << "the subscriber did not receive the update through its own queue";
  // Its death is EOF on the connection: no pid to watch across namespaces.
  EXPECT_FALSE(receive_attach_frame(connection->get(), 10s).has_value());
}

TEST_F(SocketTest, ADescriptorThatIsNotAWritableNotifyQueueIsRefusedSayingWhatItIs) {
  const auto refused_as = [](int descriptor, const std::string& what) {
    try {
      check_notify_queue_descriptor(descriptor, sizeof(NotifyMessage));
      ADD_FAILURE() << "accepted " << what;
    } catch (const Error& refused) {
      EXPECT_EQ(refused.code(), Errc::invalid_argument);
      EXPECT_NE(std::string(refused.what()).find(what), std::string::npos) << refused.what();
    }
  };
  // Each one travels over a real socket first, as a hostile subscriber would send it.
  const auto passed = [](int descriptor) {
    auto [sender, receiver] = socket_pair();
    send_attach_frame(sender.get(), AttachHello{hello_wants_notify, 0, 0, 0, "sub"}, std::span(&descriptor, 1), 2s);
    auto hello = receive_attach_frame(receiver.get(), 2s);
    EXPECT_TRUE(hello && hello->descriptors.size() == 1);
    return std::move(hello->descriptors[0]);
  };
  char file_path[] = "/tmp/shmsnap-sock-file-XXXXXX";
  const UniqueFd file(mkstemp(file_path));
  ASSERT_TRUE(file.valid());
  unlink(file_path);
  refused_as(passed(file.get()).get(), "a regular file");
  auto [one, other] = socket_pair();
  refused_as(passed(one.get()).get(), "a socket");

  const std::string name = "/shmsnap-sock-test-wrong-" + std::to_string(getpid());
  mq_attr attributes{};
  attributes.mq_maxmsg = 1;
  attributes.mq_msgsize = sizeof(NotifyMessage);
  const UniqueFd read_only(mq_open(name.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attributes));
  ASSERT_TRUE(read_only.valid()) << strerror(errno);
  mq_unlink(name.c_str());
  refused_as(passed(read_only.get()).get(), "read-only");
  attributes.mq_msgsize = 8;
  const UniqueFd small(mq_open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attributes));
  ASSERT_TRUE(small.valid()) << strerror(errno);
  mq_unlink(name.c_str());
  refused_as(passed(small.get()).get(), "8-byte messages instead of 48");
}

TEST_F(SocketTest, GarbageExcessDescriptorsAndTruncatedFramesAreRefusedAndEveryReceivedDescriptorClosed) {
  // Garbage bytes carrying a descriptor.
  {
    auto [sender, receiver] = socket_pair();
    WatchedDescriptor watched;
    const std::array<std::byte, 16> garbage{std::byte{0xde}, std::byte{0xad}, std::byte{0xbe}, std::byte{0xef}};
    raw_send(sender.get(), garbage, {watched.write_end.get()});
    watched.write_end.reset();
    expect_refused(receiver.get(), Errc::protocol, "not a shmsnap attach frame");
    EXPECT_TRUE(watched.all_closed()) << "the garbage's descriptor was kept open";
  }
  // A valid HELLO carrying three descriptors, and one carrying more than fit
  // the receive buffer (MSG_CTRUNC: the kernel drops the rest, we close the others).
  for (const std::size_t count : {std::size_t{3}, std::size_t{12}}) {
    auto [sender, receiver] = socket_pair();
    WatchedDescriptor watched;
    const std::vector<int> copies(count, watched.write_end.get());
    raw_send(sender.get(), encode_attach_frame(AttachHello{hello_wants_notify, 0, 0, 0, "sub"}), copies);
    watched.write_end.reset();
    expect_refused(receiver.get(), Errc::protocol, "descriptors");
    EXPECT_TRUE(watched.all_closed()) << count << " descriptors: one was kept open";
  }
  // A HELLO asking for notifications without its queue, and a BYE with one.
  {
    auto [sender, receiver] = socket_pair();
    raw_send(sender.get(), encode_attach_frame(AttachHello{hello_wants_notify, 0, 0, 0, "sub"}), {});
    expect_refused(receiver.get(), Errc::protocol, "came with 0 descriptors instead of 1");
  }
  {
    auto [sender, receiver] = socket_pair();
    WatchedDescriptor watched;
    raw_send(sender.get(), encode_attach_frame(AttachBye{}), {watched.write_end.get()});
    watched.write_end.reset();
    expect_refused(receiver.get(), Errc::protocol, "came with 1 descriptors instead of 0");
    EXPECT_TRUE(watched.all_closed());
  }
  // Half a frame, then the sender closes: refused, not waited on.
  {
    auto [sender, receiver] = socket_pair();
    WatchedDescriptor watched;
    const auto bytes = encode_attach_frame(AttachHello{hello_wants_notify, 0, 0, 0, "sub"});
    raw_send(sender.get(), std::span(bytes.data(), 12), {watched.write_end.get()});
    watched.write_end.reset();
    sender.reset();
    expect_refused(receiver.get(), Errc::protocol, "closed the connection mid-frame");
    EXPECT_TRUE(watched.all_closed());
  }
  // Credentials as ancillary data are not descriptors: refused.
  {
    auto [sender, receiver] = socket_pair();
    const int on = 1;
    ASSERT_EQ(setsockopt(receiver.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
    raw_send(sender.get(), encode_attach_frame(AttachBye{}), {});
    expect_refused(receiver.get(), Errc::protocol, "ancillary data other than descriptors");
  }
}

TEST_F(SocketTest, AClientThatNeverSendsOrTricklesIsDroppedAtTheTimeout) {
  SocketListener listener = SocketListener::create(directory_, "topic");
  const UniqueFd silent = connect_to_socket(listener.path(), 5s);
  auto accepted = listener.accept(5s);
  ASSERT_TRUE(accepted.has_value());
  auto start = Clock::now();
  expect_refused(accepted->get(), Errc::timed_out, "in time", 200ms);
  EXPECT_GE(Clock::now() - start, 200ms);
  EXPECT_LT(Clock::now() - start, 5s);

  // A header now, the body never: the timeout is for the whole frame.
  const auto bytes = encode_attach_frame(AttachBye{});
  ASSERT_EQ(send(silent.get(), bytes.data(), attach_header_size, MSG_NOSIGNAL), 8);
  start = Clock::now();
  expect_refused(accepted->get(), Errc::timed_out, "sent 0 of 4 bytes", 200ms);
  EXPECT_LT(Clock::now() - start, 5s);
}

TEST_F(SocketTest, AFloodOfConnectsIsBoundedByTheBacklogAndDrainedWithoutLeaks) {
  constexpr int backlog = 4;
  SocketListener listener = SocketListener::create(directory_, "topic", 0666, backlog);
  // Many clients connect at once and never send: the kernel queues only about the
  // backlog's worth; the rest are refused at once (EAGAIN), never queued unboundedly.
  std::vector<UniqueFd> clients;
  int refused = 0;
  const sockaddr_un address = [&] {
    sockaddr_un result{};
    result.sun_family = AF_UNIX;
    std::memcpy(result.sun_path, listener.path().c_str(), listener.path().size() + 1);
    return result;
  }();
  for (int client = 0; client < 64; ++client) {
    UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
      clients.push_back(std::move(socket));
    } else {
      EXPECT_EQ(errno, EAGAIN) << strerror(errno);
      ++refused;
    }
  }
  EXPECT_LE(clients.size(), static_cast<std::size_t>(backlog + 2));
  EXPECT_GE(refused, 64 - backlog - 2);
  // A well-behaved client meanwhile is told, within its timeout, that the publisher is overloaded.
  try {
    (void)connect_to_socket(listener.path(), 50ms);
    ADD_FAILURE() << "connected past a full backlog";
  } catch (const Error& busy) {
    EXPECT_EQ(busy.code(), Errc::timed_out) << busy.what();
  }
  // Draining: each silent connection costs the listener one short timeout.
  const auto start = Clock::now();
  std::size_t drained = 0;
  for (std::size_t round = 0; round < clients.size() + 2; ++round) {
    auto connection = listener.accept(20ms);
    if (!connection) {
      break;
    }
    ++drained;
    expect_refused(connection->get(), Errc::timed_out, "in time", 10ms);
  }
  EXPECT_EQ(drained, clients.size());
  EXPECT_LT(Clock::now() - start, 5s);
  // Now there is room again.
  const UniqueFd late = connect_to_socket(listener.path(), 2s);
  EXPECT_TRUE(late.valid());
}

TEST_F(SocketTest, AStrangersConnectionIsRefusedNamingItsUidAndTheOptionThatAdmitsIt) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to start a child as another user (uid 65534)";
  }
  // Other users reach the socket only through a directory they may search (mkdtemp made it 0700).
  ASSERT_EQ(chmod(directory_.c_str(), 0755), 0);
  SocketListener listener = SocketListener::create(directory_, "topic");
  const std::string path = listener.path();
  const pid_t stranger = fork_child([&] {
    if (setgid(65534) != 0 || setuid(65534) != 0) {
      return 3;
    }
    const UniqueFd connection = connect_to_socket(path, 10s);
    send_attach_frame(connection.get(), AttachHello{0, 0, 0, 0, "stranger"}, {}, 10s);
    auto answer = receive_attach_frame(connection.get(), 10s);
    if (!answer || !std::holds_alternative<AttachRejected>(answer->frame)) {
      return 4;
    }
    const auto& rejected = std::get<AttachRejected>(answer->frame);
    return rejected.reason == AttachRejectReason::not_admitted &&
                   rejected.text.find("--allow-uid 65534") != std::string::npos
               ? 0
               : 5;
  });
  auto connection = listener.accept(10s);
  ASSERT_TRUE(connection.has_value());
  const PeerCredentials peer = peer_credentials(connection->get());
  EXPECT_EQ(peer.uid, 65534U);
  EXPECT_EQ(peer.pid, stranger);
  const AdmissionPolicy policy{.uids = {1001}, .gids = {}};
  ASSERT_FALSE(policy.admits(peer, geteuid()));
  const std::string why = policy.refusal(peer);
  EXPECT_NE(why.find("uid 65534"), std::string::npos) << why;
  EXPECT_NE(why.find("pid " + std::to_string(stranger)), std::string::npos) << why;
  EXPECT_NE(why.find("admits root, its own user, uid 1001)"), std::string::npos) << why;
  send_attach_frame(connection->get(), AttachRejected{AttachRejectReason::not_admitted, reason_text(why)}, {}, 10s);
  EXPECT_EQ(wait_child(stranger), 0) << "the stranger did not read its refusal";
  // The options admit it; root and the publisher's own user always are.
  EXPECT_TRUE((AdmissionPolicy{.uids = {65534}, .gids = {}}.admits(peer, geteuid())));
  EXPECT_TRUE((AdmissionPolicy{.uids = {}, .gids = {65534}}.admits(peer, geteuid())));
  EXPECT_TRUE(policy.admits(PeerCredentials{1, 0, 0}, 1000));
  EXPECT_TRUE(policy.admits(PeerCredentials{1, 1000, 1000}, 1000));
}

}  // namespace
}  // namespace shmsnap::detail
