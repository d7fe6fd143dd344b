// A small RAII wrapper over one POSIX message queue descriptor (mq_overview(7)),
// plus the host's mqueue limits. Setup calls throw shmsnap::Error naming the limit
// and its sysctl; send/receive are noexcept and report through a status.
// A MessageQueue object is used by one thread at a time; the queue itself is shared.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace shmsnap {

/// The kernel's message queue limits, from /proc/sys/fs/mqueue.
struct MqLimits {
  long msg_max = 10;        ///< fs.mqueue.msg_max: most messages per queue
  long msgsize_max = 8192;  ///< fs.mqueue.msgsize_max: largest message
  long queues_max = 256;    ///< fs.mqueue.queues_max: queues on the host

  /// Reads the current limits; falls back to the kernel defaults where unreadable.
  [[nodiscard]] static MqLimits read() noexcept;
};

/// Outcome of a non-blocking or timed send/receive.
enum class QueueStatus {
  ok,         ///< the message went or came
  full,       ///< send: the queue holds its maximum (EAGAIN)
  empty,      ///< receive: nothing pending (EAGAIN), or the timeout expired
  too_large,  ///< receive buffer smaller than the queue's message size, or message over it
  error,      ///< any other OS failure; errno is kept
};

/// Result of a receive: status, bytes received and the message priority.
struct Received {
  QueueStatus status = QueueStatus::error;
  std::size_t size = 0;
  unsigned priority = 0;
};

class MessageQueue {
 public:
  enum class Access { read, write, read_write };

  /// How to create a queue. Sizes are clamped to MqLimits unless `strict_limits`.
  struct CreateOptions {
    long max_messages = 1;
    long message_size = 64;
    mode_t mode = 0600;
    Access access = Access::read;
    bool exclusive = true;       ///< O_EXCL: fail when the name exists
    bool nonblocking = true;     ///< O_NONBLOCK on the descriptor
    bool strict_limits = false;  ///< refuse (with the sysctl named) instead of clamping
  };

  MessageQueue() = default;
  MessageQueue(MessageQueue&& other) noexcept;
  MessageQueue& operator=(MessageQueue&& other) noexcept;
  MessageQueue(const MessageQueue&) = delete;
  MessageQueue& operator=(const MessageQueue&) = delete;
  /// Closes the descriptor; never unlinks (the owner does that explicitly).
  ~MessageQueue();

  /// Creates `name` ("/..."); the descriptor stays open. Throws Error.
  [[nodiscard]] static MessageQueue create(std::string_view name, const CreateOptions& options);
  /// Opens an existing queue. Throws Error (not_found, permission_denied, ...).
  [[nodiscard]] static MessageQueue open(std::string_view name, Access access, bool nonblocking);
  /// Takes ownership of a queue descriptor received from elsewhere (socket mode: a
  /// subscriber's write-only descriptor, checked by check_notify_queue_descriptor)
  /// and makes it non-blocking, as the fan-out needs. `label` names it in messages.
  /// Throws Error (closing it) when it cannot be made non-blocking.
  [[nodiscard]] static MessageQueue adopt(int descriptor, std::string label);
  /// Removes the name; true when it existed. Never throws; on false errno says
  /// why (ENOENT: already gone, EACCES: another user's queue in the sticky /dev/mqueue).
  static bool unlink(std::string_view name) noexcept;

  /// Sends without blocking when the descriptor is non-blocking.
  /// As send(), on a raw queue descriptor this object does not own (the publisher's
  /// lock-free fan-out holds descriptors, not MessageQueue objects).
  static QueueStatus send_to(int descriptor, std::span<const std::byte> message, unsigned priority) noexcept;
  QueueStatus send(std::span<const std::byte> message, unsigned priority) noexcept;
  /// Sends, blocking at most `timeout` when the queue is full (blocking descriptor),
  /// or retrying until then (non-blocking descriptor).
  QueueStatus send_for(std::span<const std::byte> message, unsigned priority,
                       std::chrono::nanoseconds timeout) noexcept;
  /// Receives the oldest message of the highest priority, without blocking on a
  /// non-blocking descriptor. `buffer` must hold message_size() bytes.
  Received receive(std::span<std::byte> buffer) noexcept;
  /// Receives, waiting at most `timeout` (poll on the descriptor, so it works for
  /// both blocking and non-blocking descriptors).
  Received receive_for(std::span<std::byte> buffer, std::chrono::nanoseconds timeout) noexcept;
  /// Receives on a blocking descriptor with one mq_timedreceive: the cheapest
  /// blocking wait (one syscall), for hot paths. Returns empty on timeout.
  Received timed_receive(std::span<std::byte> buffer, std::chrono::nanoseconds timeout) noexcept;

  /// Current attributes: max messages, message size, messages pending.
  struct Attributes {
    long max_messages = 0;
    long message_size = 0;
    long pending = 0;
    bool nonblocking = false;
  };
  [[nodiscard]] Attributes attributes() const;

  /// Gives the queue to `group` (fchown), so members of the group named by the
  /// queue's mode may use it even when it is only a supplementary group of its
  /// creator. False (errno kept) when the caller is not a member.
  bool set_group(gid_t group) noexcept;

  /// Inode of the open queue (0 on error): tells whether a name still refers to it.
  [[nodiscard]] ino_t inode() const noexcept;
  /// Owner of the open queue, or (uid_t)-1 on error.
  [[nodiscard]] uid_t owner() const noexcept;
  /// Inode the name refers to now, or nullopt when it names no queue this process
  /// can open (absent, or not ours to see).
  [[nodiscard]] static std::optional<ino_t> inode_of(std::string_view name) noexcept;
  /// Owner of the queue `name` (stat of /dev/mqueue<name>, which needs no access to
  /// the queue), or nullopt when it does not exist or mqueue is not mounted there.
  [[nodiscard]] static std::optional<uid_t> owner_of(std::string_view name) noexcept;
  /// Permission bits of the open queue (0 on error).
  [[nodiscard]] mode_t mode() const noexcept;
  /// Removes `name` only if it still refers to the queue with `inode`: a holder
  /// that reclaims a name never removes its successor's queue. True when removed.
  static bool unlink_if_same(std::string_view name, ino_t inode) noexcept;

  /// The descriptor, pollable with poll/select/epoll (Linux mqd_t is an fd).
  [[nodiscard]] int native_handle() const noexcept { return descriptor_; }
  [[nodiscard]] bool is_open() const noexcept { return descriptor_ >= 0; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Closes the descriptor now (idempotent).
  void close() noexcept;

 private:
  Received receive_until(std::span<std::byte> buffer, const struct timespec* deadline) noexcept;
  MessageQueue(int descriptor, std::string name) noexcept : descriptor_(descriptor), name_(std::move(name)) {}

  int descriptor_ = -1;
  std::string name_;
};

}  // namespace shmsnap
