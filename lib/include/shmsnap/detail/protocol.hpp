// Wire format of the two queue kinds. Notify queue (publisher -> one subscriber):
// NotifyMessage. Control queue (subscribers -> publisher): ControlMessage.
// Fixed-size, host-endian binary records; every received message is validated
// by parse_* before use (a hostile local peer may write anything it is allowed to).
// In detail/: the library's plumbing, used by tools and tests, not a stable API.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace shmsnap {

inline constexpr std::uint16_t protocol_magic = 0x5353;  // "SS"
inline constexpr std::uint8_t protocol_version = 2;      // 2: NotifyMessage carries holder_pid and limit

/// mq priorities: control kinds are dequeued before a pending UPDATE.
inline constexpr unsigned update_priority = 0;
inline constexpr unsigned control_priority = 1;

enum class NotifyKind : std::uint8_t {
  update = 1,    ///< a new snapshot is published; read the region
  shutdown = 2,  ///< the publisher closes the topic cleanly
  epoch = 3,     ///< a new publisher (new epoch) took the topic over: re-attach
  welcome = 4,   ///< answer to HELLO: registered
  rejected = 5,  ///< answer to HELLO: refused (detail says why)
};

enum class RejectReason : std::uint32_t { none = 0, table_full = 1, id_in_use = 2, wrong_epoch = 3 };

struct NotifyMessage {
  std::uint16_t magic = protocol_magic;
  std::uint8_t version = protocol_version;
  NotifyKind kind = NotifyKind::update;
  std::uint32_t detail = 0;        ///< RejectReason, for rejected
  std::uint64_t seq = 0;           ///< update/shutdown: the newest publish sequence
  std::int64_t publish_ts_ns = 0;  ///< CLOCK_MONOTONIC
  std::uint64_t epoch = 0;
  std::uint64_t nonce = 0;      ///< welcome/rejected: the nonce of the HELLO answered
  std::int32_t holder_pid = 0;  ///< rejected id_in_use: the pid that holds the id
  std::uint32_t limit = 0;      ///< rejected table_full: the publisher's max_subscribers
};
static_assert(sizeof(NotifyMessage) == 48);
static_assert(offsetof(NotifyMessage, seq) == 8);
static_assert(offsetof(NotifyMessage, holder_pid) == 40);

enum class ControlKind : std::uint8_t { hello = 1, bye = 2 };

/// HELLO flags.
enum HelloFlags : std::uint32_t {
  hello_wants_notify = 1U << 0,  ///< spin-mode subscribers clear it: no mq_send per publish
  /// Set by the publisher in its subscriber table only (never taken from a HELLO):
  /// attached over a socket, alive while its connection is; its pid may be 0 (a PID
  /// namespace the publisher cannot see).
  table_connected = 1U << 31,
};

struct ControlMessage {
  std::uint16_t magic = protocol_magic;
  std::uint8_t version = protocol_version;
  ControlKind kind = ControlKind::hello;
  std::uint32_t flags = 0;
  std::int32_t pid = 0;
  std::uint32_t reserved = 0;
  std::uint64_t epoch = 0;        ///< the region epoch the subscriber attached to
  std::uint64_t fingerprint = 0;  ///< the region fingerprint the subscriber accepted
  /// A random secret of this subscriber's registration. Only the publisher reads
  /// the control queue and only the subscriber its notify queue, so an answer
  /// echoing it is genuine, and a BYE carrying it comes from the subscriber.
  std::uint64_t nonce = 0;
  char id[48] = {};  ///< NUL-terminated subscriber id
};
static_assert(sizeof(ControlMessage) == 88);

/// A received message that passed validation, or why the bytes are not one.
template <class Message>
struct Parsed {
  std::optional<Message> message;  ///< set exactly when the bytes are a valid message
  std::string problem;             ///< the reason, when message is empty

  [[nodiscard]] bool valid() const noexcept { return message.has_value(); }
};

/// Validates a received notify message: size, magic, version, kind.
[[nodiscard]] Parsed<NotifyMessage> parse_notify(std::span<const std::byte> bytes);

/// Validates a received control message: size, magic, version, kind, pid, id
/// charset and termination.
[[nodiscard]] Parsed<ControlMessage> parse_control(std::span<const std::byte> bytes);

/// The id of a validated control message.
[[nodiscard]] inline std::string_view id_of(const ControlMessage& message) noexcept {
  return std::string_view(message.id);
}

/// Builds a HELLO or BYE. `id` must be a valid subscriber id.
[[nodiscard]] ControlMessage make_control(ControlKind kind, std::string_view id, pid_t pid, std::uint64_t epoch,
                                          std::uint64_t fingerprint, std::uint32_t flags, std::uint64_t nonce = 0);

/// Bytes of a message, for MessageQueue::send.
template <class Message>
[[nodiscard]] std::span<const std::byte> as_bytes(const Message& message) noexcept {
  return std::span<const std::byte>(reinterpret_cast<const std::byte*>(&message), sizeof message);
}

}  // namespace shmsnap
