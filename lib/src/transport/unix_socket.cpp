#include "transport/unix_socket.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/vfs.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "region/shared_memory.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/region.hpp"
#include "system/os_error.hpp"

namespace shmsnap::detail {
namespace {

using Clock = std::chrono::steady_clock;

constexpr long mqueue_magic = 0x19800202;  // MQUEUE_MAGIC, include/uapi/linux/magic.h
// Room for more descriptors than any frame carries, so a peer sending too many is
// told so, instead of the kernel silently dropping the excess (MSG_CTRUNC).
constexpr std::size_t descriptor_room = 4;
constexpr auto connect_retry_interval = std::chrono::milliseconds(5);

// Milliseconds left until `deadline` for poll(), never negative.
int remaining_ms(Clock::time_point deadline) noexcept {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) {
    return 0;
  }
  return left > 60'000 ? 60'000 : static_cast<int>(left);
}

// Waits for `events` on `descriptor` until `deadline`: true when ready (or hung
// up: the caller's read or write says how).
bool wait_for(int descriptor, short events, Clock::time_point deadline) {
  pollfd entry{descriptor, events, 0};
  while (true) {
    const int ready = ::poll(&entry, 1, remaining_ms(deadline));
    if (ready > 0) {
      return true;
    }
    if (ready == 0) {
      // poll's own timeout is capped: only the deadline ends the wait.
      if (Clock::now() >= deadline) {
        return false;
      }
      continue;
    }
    if (errno != EINTR) {
      throw os_error(errno, "wait on", "socket " + std::to_string(descriptor));
    }
  }
}

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  SHMSNAP_EXPECTS(path.size() < sizeof address.sun_path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

UniqueFd new_socket() {
  UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket.valid()) {
    throw os_error(errno, "create", "a Unix socket");
  }
  return socket;
}

std::string describe_peer(const PeerCredentials& peer) {
  return (peer.pid > 0 ? "pid " + std::to_string(peer.pid) : std::string("a process in another PID namespace")) +
         ", user " + user_name(peer.uid);
}

// Reads exactly buffer.size() bytes before `deadline`, taking ownership of every
// descriptor that arrives on the way. Returns the bytes read: 0 only when the peer
// closed before the first byte.
std::size_t receive_exact(int socket, std::span<std::byte> buffer, std::vector<UniqueFd>& descriptors,
                          Clock::time_point deadline) {
  std::size_t got = 0;
  while (got < buffer.size()) {
    if (!wait_for(socket, POLLIN, deadline)) {
      throw Error(Errc::timed_out, "the peer on socket " + std::to_string(socket) + " sent " + std::to_string(got) +
                                       " of " + std::to_string(buffer.size()) +
                                       " bytes in time; a peer that stalls is dropped");
    }
    iovec part{buffer.data() + got, buffer.size() - got};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * descriptor_room)> control{};
    msghdr message{};
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    const ssize_t received = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (received < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        continue;
      }
      if (errno == ECONNRESET) {
        throw Error(Errc::protocol, "the peer reset the connection mid-frame", errno);
      }
      throw os_error(errno, "receive from", "socket " + std::to_string(socket));
    }
    // Own every descriptor first, so every refusal below closes them all.
    bool foreign = false;
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) {
        foreign = true;
        continue;
      }
      const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t index = 0; index < count; ++index) {
        int descriptor = -1;
        std::memcpy(&descriptor, CMSG_DATA(header) + index * sizeof(int), sizeof descriptor);
        descriptors.emplace_back(descriptor);
      }
    }
    if ((message.msg_flags & MSG_CTRUNC) != 0) {
      throw Error(Errc::protocol, "the peer sent more than " + std::to_string(descriptor_room) +
                                      " descriptors with one message (the kernel cut them off)");
    }
    if (foreign) {
      throw Error(Errc::protocol, "the peer sent ancillary data other than descriptors (SCM_RIGHTS)");
    }
    if (descriptors.size() > attach_max_descriptors) {
      throw Error(Errc::protocol, "the peer sent " + std::to_string(descriptors.size()) +
                                      " descriptors with one frame; a frame carries at most " +
                                      std::to_string(attach_max_descriptors));
    }
    if (received == 0) {
      if (got == 0 && descriptors.empty()) {
        return 0;
      }
      throw Error(Errc::protocol, "the peer closed the connection mid-frame, after " + std::to_string(got) + " of " +
                                      std::to_string(buffer.size()) + " bytes");
    }
    got += static_cast<std::size_t>(received);
  }
  return got;
}

// Decides what is at the socket path before binding: nothing, or a dead
// publisher's socket (removed here). Anything else is refused.
void clear_socket_path(const std::string& path) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) {
    if (errno == ENOENT) {
      return;
    }
    throw os_error(errno, "inspect", path);
  }
  if (!S_ISSOCK(status.st_mode)) {
    throw Error(Errc::invalid_argument,
                path + " is " + describe_file_type(status.st_mode) +
                    ", not a publisher's socket (shmsnap never follows or removes it: someone may be blocking or "
                    "redirecting the topic); remove it, or use another socket directory");
  }
  UniqueFd probe = new_socket();
  const sockaddr_un address = address_of(path);
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 || errno == EAGAIN) {
    std::string holder = "a live process";
    if (errno != EAGAIN) {
      try {
        holder = "a live publisher (" + describe_peer(peer_credentials(probe.get())) + ")";
      } catch (const Error&) {
      }
    }
    throw Error(Errc::busy, "topic socket " + path + " is held by " + holder +
                                "; stop that publisher first, or use another topic or socket directory");
  }
  const int err = errno;
  if (err == ENOENT) {
    return;  // gone since the lstat
  }
  if (err != ECONNREFUSED) {
    throw os_error(err, "check whether a publisher listens on", path,
                   err == EACCES ? "run as a user allowed to connect to it, or remove it" : "");
  }
  // Nobody listens: its publisher died. The lock we hold keeps other starting
  // publishers from doing the same at once.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw os_error(errno, "remove the dead publisher's socket", path, "remove it as its owner or root");
  }
}

UniqueFd lock_topic(const std::string& lock_path) {
  // O_NOFOLLOW and the regular-file check: a planted link cannot make us create or
  // lock a file elsewhere; O_NONBLOCK: a planted FIFO cannot block the open.
  UniqueFd lock(::open(lock_path.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644));
  if (!lock.valid()) {
    throw os_error(errno, "open the lock file", lock_path, errno == ELOOP ? "it is a link: remove it" : "");
  }
  struct stat status {};
  if (::fstat(lock.get(), &status) != 0) {
    throw os_error(errno, "inspect the lock file", lock_path);
  }
  if (!S_ISREG(status.st_mode)) {
    throw Error(Errc::invalid_argument, lock_path + " is " + describe_file_type(status.st_mode) +
                                            ", not a lock file; remove it, or use another socket directory");
  }
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      throw Error(Errc::busy, lock_path +
                                  " is locked by another publisher of this topic (starting or running); "
                                  "stop it first, or use another topic or socket directory");
    }
    throw os_error(errno, "lock", lock_path);
  }
  return lock;
}

}  // namespace

std::string socket_path(const std::string& directory, std::string_view topic) {
  if (!is_valid_name(topic, max_topic_length)) {
    throw Error(Errc::invalid_argument, "topic '" + std::string(topic) +
                                            "' is not a valid topic name ([A-Za-z0-9_.-], 1.." +
                                            std::to_string(max_topic_length) + " characters)");
  }
  std::string path = directory;
  if (path.empty() || path.back() != '/') {
    path += '/';
  }
  path += topic;
  path += ".sock";
  // The lock file's name is longer, but only the socket's must fit an address.
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    throw Error(Errc::invalid_argument, "socket path " + path + " is " + std::to_string(path.size()) +
                                            " bytes; a Unix socket address holds at most " +
                                            std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                                            ": use a shorter socket directory or topic");
  }
  return path;
}

PeerCredentials peer_credentials(int socket) {
  ucred credentials{};
  socklen_t size = sizeof credentials;
  if (::getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) {
    throw os_error(errno, "read the peer credentials (SO_PEERCRED) of", "socket " + std::to_string(socket));
  }
  return {credentials.pid, credentials.uid, credentials.gid};
}

SocketListener SocketListener::create(const std::string& directory, std::string_view topic, mode_t mode, int backlog) {
  SHMSNAP_EXPECTS(backlog > 0);
  const std::string path = socket_path(directory, topic);
  struct stat folder {};
  if (::stat(directory.c_str(), &folder) != 0) {
    throw os_error(errno, "open the socket directory", directory, "create it, or mount the shared volume there");
  }
  if (!S_ISDIR(folder.st_mode)) {
    throw Error(Errc::invalid_argument,
                "socket directory " + directory + " is " + describe_file_type(folder.st_mode) + ", not a directory");
  }
  SocketListener listener;
  listener.lock_ = lock_topic(path + ".lock");
  clear_socket_path(path);
  listener.socket_ = new_socket();
  const sockaddr_un address = address_of(path);
  // bind never follows a link and fails on any existing name: whatever was
  // planted since clear_socket_path stays where it is.
  if (::bind(listener.socket_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int err = errno;
    throw os_error(err, "bind the topic socket", path,
                   err == EADDRINUSE ? "another process created it just now; stop that publisher first" : "");
  }
  listener.path_ = path;
  struct stat bound {};
  if (::lstat(path.c_str(), &bound) == 0 && S_ISSOCK(bound.st_mode)) {
    listener.inode_ = bound.st_ino;
  }
  // The mode as asked for, whatever the umask; AT_SYMLINK_NOFOLLOW refuses rather
  // than chmod a link's target if the name was swapped since the bind.
  if (::fchmodat(AT_FDCWD, path.c_str(), mode, AT_SYMLINK_NOFOLLOW) != 0) {
    throw os_error(errno, "set the mode of", path);
  }
  if (::listen(listener.socket_.get(), backlog) != 0) {
    throw os_error(errno, "listen on", path);
  }
  return listener;
}

SocketListener::SocketListener(SocketListener&& other) noexcept {
  *this = std::move(other);
}

SocketListener& SocketListener::operator=(SocketListener&& other) noexcept {
  if (this != &other) {
    close();
    socket_ = std::move(other.socket_);
    lock_ = std::move(other.lock_);
    path_ = std::exchange(other.path_, {});
    inode_ = std::exchange(other.inode_, 0);
  }
  return *this;
}

SocketListener::~SocketListener() {
  close();
}

void SocketListener::close() noexcept {
  if (!path_.empty()) {
    // Only our own socket: a successor may already have replaced it. The lock
    // file stays (removing it would let two publishers lock two different files).
    struct stat status {};
    if (::lstat(path_.c_str(), &status) == 0 && S_ISSOCK(status.st_mode) && status.st_ino == inode_) {
      ::unlink(path_.c_str());
    }
    path_.clear();
  }
  socket_.reset();
  lock_.reset();
}

std::optional<UniqueFd> SocketListener::accept(std::chrono::milliseconds timeout) {
  SHMSNAP_EXPECTS(socket_.valid());
  if (!wait_for(socket_.get(), POLLIN, Clock::now() + timeout)) {
    return std::nullopt;
  }
  UniqueFd connection(::accept4(socket_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!connection.valid()) {
    const int err = errno;
    if (err == EAGAIN || err == ECONNABORTED || err == EINTR) {
      return std::nullopt;
    }
    throw os_error(err, "accept a connection on", path_);
  }
  return connection;
}

UniqueFd connect_to_socket(const std::string& path, std::chrono::milliseconds timeout) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    throw Error(Errc::invalid_argument, "socket path " + path + " is longer than a Unix socket address holds (" +
                                            std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                                            " bytes): use a shorter socket directory");
  }
  const auto deadline = Clock::now() + timeout;
  const sockaddr_un address = address_of(path);
  // A full backlog answers EAGAIN at once: retry until the deadline, a few
  // milliseconds apart (connect gives nothing to poll on for it).
  while (true) {
    UniqueFd socket = new_socket();
    if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
      return socket;
    }
    const int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      throw Error(Errc::not_found,
                  "no publisher listens on " + path +
                      (err == ENOENT ? std::string(" (no such socket)") : std::string(" (its publisher is gone)")) +
                      "; start the publisher, or check the topic and --socket-dir",
                  err);
    }
    if (err != EAGAIN && err != EINTR) {
      throw os_error(err, "connect to", path);
    }
    if (Clock::now() + connect_retry_interval >= deadline) {
      throw Error(Errc::timed_out, "the publisher on " + path + " did not accept the connection within " +
                                       std::to_string(timeout.count()) +
                                       " ms (its backlog is full: it is overloaded or stopped)");
    }
    std::this_thread::sleep_for(connect_retry_interval);
  }
}

void send_with_descriptors(int socket, std::span<const std::byte> bytes, std::span<const int> descriptors,
                           std::chrono::milliseconds timeout) {
  SHMSNAP_EXPECTS(!bytes.empty() && descriptors.size() <= attach_max_descriptors);
  const auto deadline = Clock::now() + timeout;
  std::size_t sent = 0;
  bool attached = descriptors.empty();
  while (sent < bytes.size()) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): iovec is shared with recvmsg; sendmsg only reads it
    iovec part{const_cast<std::byte*>(bytes.data()) + sent, bytes.size() - sent};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * attach_max_descriptors)> control{};
    msghdr message{};
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    if (!attached) {
      message.msg_control = control.data();
      message.msg_controllen = CMSG_SPACE(sizeof(int) * descriptors.size());
      cmsghdr* header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(sizeof(int) * descriptors.size());
      std::memcpy(CMSG_DATA(header), descriptors.data(), sizeof(int) * descriptors.size());
    }
    const ssize_t written = ::sendmsg(socket, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (written < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EINTR) {
        if (!wait_for(socket, POLLOUT, deadline)) {
          throw Error(Errc::timed_out, "the peer on socket " + std::to_string(socket) + " took " +
                                           std::to_string(sent) + " of " + std::to_string(bytes.size()) +
                                           " bytes in time; a peer that does not read is dropped");
        }
        continue;
      }
      if (err == EPIPE || err == ECONNRESET) {
        throw Error(Errc::protocol, "the peer closed the connection", err);
      }
      throw os_error(err, "send to", "socket " + std::to_string(socket));
    }
    attached = true;
    sent += static_cast<std::size_t>(written);
  }
}

std::optional<ReceivedFrame> receive_attach_frame(int socket, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::array<std::byte, attach_header_size + attach_max_body_size> buffer{};
  std::vector<UniqueFd> descriptors;
  if (receive_exact(socket, std::span(buffer.data(), attach_header_size), descriptors, deadline) == 0) {
    return std::nullopt;
  }
  const auto header = parse_attach_header(std::span(buffer.data(), attach_header_size));
  if (!header.valid()) {
    throw Error(Errc::protocol, "refused an attach frame: " + header.problem);
  }
  // parse_attach_header bounded body_size by attach_max_body_size: it fits the buffer.
  const std::size_t body_size = header.message->body_size;
  if (receive_exact(socket, std::span(buffer.data() + attach_header_size, body_size), descriptors, deadline) !=
      body_size) {
    throw Error(Errc::protocol, "the peer closed the connection between a frame's header and its body");
  }
  auto parsed = parse_attach_frame(std::span(buffer.data(), attach_header_size + body_size));
  if (!parsed.valid()) {
    throw Error(Errc::protocol, "refused an attach frame: " + parsed.problem);
  }
  const std::size_t expected = attach_descriptor_count(*parsed.message);
  if (descriptors.size() != expected) {
    throw Error(Errc::protocol, "an attach frame of kind " + std::to_string(parsed.message->index() + 1) +
                                    " came with " + std::to_string(descriptors.size()) + " descriptors instead of " +
                                    std::to_string(expected));
  }
  return ReceivedFrame{std::move(*parsed.message), std::move(descriptors)};
}

void send_attach_frame(int socket, const AttachFrame& frame, std::span<const int> descriptors,
                       std::chrono::milliseconds timeout) {
  SHMSNAP_EXPECTS(descriptors.size() == attach_descriptor_count(frame));
  const std::vector<std::byte> bytes = encode_attach_frame(frame);
  send_with_descriptors(socket, bytes, descriptors, timeout);
}

void check_notify_queue_descriptor(int descriptor, long message_size) {
  const auto refuse = [](const std::string& what) {
    return Error(Errc::invalid_argument, "the notify queue descriptor the subscriber sent is " + what +
                                             "; a subscriber in socket mode sends a write-only descriptor of its "
                                             "own POSIX message queue (mq_open)");
  };
  struct statfs filesystem {};
  if (::fstatfs(descriptor, &filesystem) != 0) {
    throw os_error(errno, "inspect", "the received queue descriptor");
  }
  if (static_cast<long>(filesystem.f_type) != mqueue_magic) {
    struct stat status {};
    const bool known = ::fstat(descriptor, &status) == 0;
    throw refuse("not a message queue (it is " +
                 (known ? describe_file_type(status.st_mode) : std::string("of an unknown type")) + ")");
  }
  const int flags = ::fcntl(descriptor, F_GETFL);
  if (flags < 0) {
    throw os_error(errno, "inspect", "the received queue descriptor");
  }
  if ((flags & O_ACCMODE) == O_RDONLY) {
    throw refuse("opened read-only, so the publisher could not notify through it");
  }
  mq_attr attributes{};
  if (::mq_getattr(descriptor, &attributes) != 0) {
    throw os_error(errno, "read the attributes of", "the received queue descriptor");
  }
  if (attributes.mq_msgsize != message_size) {
    throw refuse("a queue of " + std::to_string(attributes.mq_msgsize) + "-byte messages instead of " +
                 std::to_string(message_size));
  }
}

}  // namespace shmsnap::detail
