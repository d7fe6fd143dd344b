#include "shmsnap/detail/message_queue.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <thread>

#include "system/os_error.hpp"

namespace shmsnap {
namespace {

int access_flags(MessageQueue::Access access) noexcept {
  switch (access) {
    case MessageQueue::Access::read:
      return O_RDONLY;
    case MessageQueue::Access::write:
      return O_WRONLY;
    case MessageQueue::Access::read_write:
      return O_RDWR;
  }
  return O_RDONLY;
}

void validate_queue_name(std::string_view name) {
  if (name == "/." || name == "/..") {
    // The kernel answers these with EACCES, which would read as a mode problem.
    throw Error(Errc::invalid_argument, "invalid message queue name '" + std::string(name) +
                                            "': '.' and '..' are directory entries of /dev/mqueue, not queue "
                                            "names; pick another name, e.g. /jobs");
  }
  const bool well_formed =
      name.size() >= 2 && name.front() == '/' && name.find('/', 1) == std::string_view::npos && name.size() <= 255;
  if (!well_formed) {
    throw Error(Errc::invalid_argument,
                "invalid message queue name '" + std::string(name) +
                    "': it must start with '/', contain no other '/', and be at most 255 characters");
  }
}

std::string limit_advice(int err, const MqLimits& limits, const MessageQueue::CreateOptions& options) {
  switch (err) {
    case ENOSPC:
      return "the host has fs.mqueue.queues_max = " + std::to_string(limits.queues_max) +
             " queues already; remove stale ones ('shmsnap clean') or raise it: sysctl -w fs.mqueue.queues_max=N";
    case EMFILE: {
      rlimit bytes{};
      getrlimit(RLIMIT_MSGQUEUE, &bytes);
      return "this user's message queue bytes (RLIMIT_MSGQUEUE = " + std::to_string(bytes.rlim_cur) +
             ", 'ulimit -q') or open descriptors ('ulimit -n') are exhausted; raise them or close queues";
    }
    case EINVAL:
      return "max_messages " + std::to_string(options.max_messages) + " and message_size " +
             std::to_string(options.message_size) +
             " must be within fs.mqueue.msg_max = " + std::to_string(limits.msg_max) +
             " and fs.mqueue.msgsize_max = " + std::to_string(limits.msgsize_max);
    case EEXIST:
      return "another process holds this name; remove it only if its owner is dead";
    default:
      return {};
  }
}

}  // namespace

MessageQueue::MessageQueue(MessageQueue&& other) noexcept
    : descriptor_(std::exchange(other.descriptor_, -1)), name_(std::move(other.name_)) {}

MessageQueue& MessageQueue::operator=(MessageQueue&& other) noexcept {
  if (this != &other) {
    close();
    descriptor_ = std::exchange(other.descriptor_, -1);
    name_ = std::move(other.name_);
  }
  return *this;
}

MessageQueue::~MessageQueue() {
  close();
}

void MessageQueue::close() noexcept {
  if (descriptor_ >= 0) {
    mq_close(descriptor_);
    descriptor_ = -1;
  }
}

MessageQueue MessageQueue::create(std::string_view name, const CreateOptions& options) {
  validate_queue_name(name);
  const MqLimits limits = MqLimits::read();
  if (options.max_messages < 1 || options.message_size < 1) {
    throw Error(Errc::invalid_argument,
                "message queue " + std::string(name) + ": max_messages and message_size must be at least 1");
  }
  if (options.strict_limits && options.max_messages > limits.msg_max) {
    throw Error(Errc::limit_exceeded,
                "message queue " + std::string(name) + ": max_messages " + std::to_string(options.max_messages) +
                    " exceeds fs.mqueue.msg_max = " + std::to_string(limits.msg_max) +
                    "; raise it: sysctl -w fs.mqueue.msg_max=" + std::to_string(options.max_messages));
  }
  if (options.strict_limits && options.message_size > limits.msgsize_max) {
    throw Error(Errc::limit_exceeded,
                "message queue " + std::string(name) + ": message_size " + std::to_string(options.message_size) +
                    " exceeds fs.mqueue.msgsize_max = " + std::to_string(limits.msgsize_max) +
                    "; raise it: sysctl -w fs.mqueue.msgsize_max=" + std::to_string(options.message_size));
  }
  mq_attr attributes{};
  attributes.mq_maxmsg = std::min(options.max_messages, limits.msg_max);
  attributes.mq_msgsize = std::min(options.message_size, limits.msgsize_max);
  int flags = access_flags(options.access) | O_CREAT | O_CLOEXEC;
  flags |= options.exclusive ? O_EXCL : 0;
  flags |= options.nonblocking ? O_NONBLOCK : 0;
  const std::string owned_name(name);
  const mqd_t descriptor = mq_open(owned_name.c_str(), flags, options.mode, &attributes);
  if (descriptor == static_cast<mqd_t>(-1)) {
    const int err = errno;
    throw detail::os_error(err, "create message queue", owned_name, limit_advice(err, limits, options));
  }
  MessageQueue created(descriptor, owned_name);
  // mq_open applied the umask; on Linux a mqd_t is a descriptor, so set the mode
  // asked for exactly (umask() itself is process-wide and racy to change).
  if (fchmod(descriptor, options.mode) != 0) {
    const int err = errno;
    created.close();
    MessageQueue::unlink(owned_name);
    throw detail::os_error(err, "set the mode of message queue", owned_name);
  }
  return created;
}

MessageQueue MessageQueue::open(std::string_view name, Access access, bool nonblocking) {
  validate_queue_name(name);
  const std::string owned_name(name);
  const int flags = access_flags(access) | O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0);
  const mqd_t descriptor = mq_open(owned_name.c_str(), flags);
  if (descriptor == static_cast<mqd_t>(-1)) {
    const int err = errno;
    throw detail::os_error(err, "open message queue", owned_name,
                           err == ENOENT ? "it does not exist (is its owner running?)" : "");
  }
  return MessageQueue(descriptor, owned_name);
}

MessageQueue MessageQueue::adopt(int descriptor, std::string label) {
  MessageQueue adopted(descriptor, std::move(label));  // closes it if we throw below
  mq_attr attributes{};
  attributes.mq_flags = O_NONBLOCK;  // mq_setattr changes only the flags
  if (mq_setattr(descriptor, &attributes, nullptr) != 0) {
    throw detail::os_error(errno, "make non-blocking", adopted.name_);
  }
  return adopted;
}

bool MessageQueue::unlink(std::string_view name) noexcept {
  const std::string owned_name(name);
  return mq_unlink(owned_name.c_str()) == 0;
}

QueueStatus MessageQueue::send(std::span<const std::byte> message, unsigned priority) noexcept {
  return send_to(descriptor_, message, priority);
}

QueueStatus MessageQueue::send_to(int descriptor, std::span<const std::byte> message, unsigned priority) noexcept {
  while (true) {
    if (mq_send(descriptor, reinterpret_cast<const char*>(message.data()), message.size(), priority) == 0) {
      return QueueStatus::ok;
    }
    switch (errno) {
      case EINTR:
        continue;
      case EAGAIN:
        return QueueStatus::full;
      case EMSGSIZE:
        return QueueStatus::too_large;
      default:
        return QueueStatus::error;
    }
  }
}

QueueStatus MessageQueue::send_for(std::span<const std::byte> message, unsigned priority,
                                   std::chrono::nanoseconds timeout) noexcept {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const QueueStatus status = send(message, priority);
    if (status != QueueStatus::full || std::chrono::steady_clock::now() >= deadline) {
      return status;
    }
    // A full queue has no "writable" edge we can poll portably for mq; back off briefly.
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
}

Received MessageQueue::receive_until(std::span<std::byte> buffer, const timespec* deadline) noexcept {
  Received result;
  while (true) {
    char* data = reinterpret_cast<char*>(buffer.data());
    const ssize_t size = deadline != nullptr
                             ? mq_timedreceive(descriptor_, data, buffer.size(), &result.priority, deadline)
                             : mq_receive(descriptor_, data, buffer.size(), &result.priority);
    if (size >= 0) {
      result.status = QueueStatus::ok;
      result.size = static_cast<std::size_t>(size);
      return result;
    }
    switch (errno) {
      case EINTR:
        continue;
      case ETIMEDOUT:
      case EAGAIN:
        result.status = QueueStatus::empty;
        return result;
      case EMSGSIZE:
        result.status = QueueStatus::too_large;
        return result;
      default:
        result.status = QueueStatus::error;
        return result;
    }
  }
}

Received MessageQueue::receive(std::span<std::byte> buffer) noexcept {
  return receive_until(buffer, nullptr);
}

Received MessageQueue::receive_for(std::span<std::byte> buffer, std::chrono::nanoseconds timeout) noexcept {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    pollfd entry{descriptor_, POLLIN, 0};
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const int ready = poll(&entry, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    if (ready < 0 && errno != EINTR) {
      return Received{QueueStatus::error, 0, 0};
    }
    if (ready > 0) {
      // Non-blocking semantics even on a blocking descriptor: another reader
      // (there should be none) could have taken the message in between.
      Received result = receive(buffer);
      if (result.status != QueueStatus::empty) {
        return result;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Received{QueueStatus::empty, 0, 0};
    }
  }
}

Received MessageQueue::timed_receive(std::span<std::byte> buffer, std::chrono::nanoseconds timeout) noexcept {
  // mq_timedreceive takes an absolute CLOCK_REALTIME deadline.
  timespec deadline{};
  clock_gettime(CLOCK_REALTIME, &deadline);
  const std::int64_t total_ns = deadline.tv_nsec + std::max<std::int64_t>(0, timeout.count());
  deadline.tv_sec += static_cast<time_t>(total_ns / 1'000'000'000);
  deadline.tv_nsec = static_cast<long>(total_ns % 1'000'000'000);
  return receive_until(buffer, &deadline);
}

ino_t MessageQueue::inode() const noexcept {
  struct stat status {};
  return fstat(descriptor_, &status) == 0 ? status.st_ino : 0;
}

uid_t MessageQueue::owner() const noexcept {
  struct stat status {};
  return fstat(descriptor_, &status) == 0 ? status.st_uid : static_cast<uid_t>(-1);
}

std::optional<ino_t> MessageQueue::inode_of(std::string_view name) noexcept {
  const std::string owned_name(name);
  // O_WRONLY|O_NONBLOCK opens never consume a message and never block.
  const mqd_t descriptor = mq_open(owned_name.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (descriptor == static_cast<mqd_t>(-1)) {
    return std::nullopt;
  }
  struct stat status {};
  const bool known = fstat(descriptor, &status) == 0;
  mq_close(descriptor);
  return known ? std::optional<ino_t>(status.st_ino) : std::nullopt;
}

std::optional<uid_t> MessageQueue::owner_of(std::string_view name) noexcept {
  struct stat status {};
  const std::string path = "/dev/mqueue" + std::string(name);
  return ::stat(path.c_str(), &status) == 0 ? std::optional<uid_t>(status.st_uid) : std::nullopt;
}

mode_t MessageQueue::mode() const noexcept {
  struct stat status {};
  return fstat(descriptor_, &status) == 0 ? (status.st_mode & 07777) : 0;
}

bool MessageQueue::unlink_if_same(std::string_view name, ino_t inode) noexcept {
  return inode != 0 && inode_of(name) == inode && unlink(name);
}

bool MessageQueue::set_group(gid_t group) noexcept {
  return fchown(descriptor_, static_cast<uid_t>(-1), group) == 0;
}

MessageQueue::Attributes MessageQueue::attributes() const {
  mq_attr raw{};
  if (mq_getattr(descriptor_, &raw) != 0) {
    throw detail::os_error(errno, "read attributes of message queue", name_);
  }
  return Attributes{raw.mq_maxmsg, raw.mq_msgsize, raw.mq_curmsgs, (raw.mq_flags & O_NONBLOCK) != 0};
}

}  // namespace shmsnap
