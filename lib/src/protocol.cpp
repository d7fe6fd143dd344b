#include "shmsnap/protocol.hpp"

#include <cstring>

#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"

namespace shmsnap {

std::optional<NotifyMessage> parse_notify(std::span<const std::byte> bytes, std::string& why) {
  if (bytes.size() != sizeof(NotifyMessage)) {
    why = "notify message of " + std::to_string(bytes.size()) + " bytes, expected " +
          std::to_string(sizeof(NotifyMessage));
    return std::nullopt;
  }
  NotifyMessage message;
  std::memcpy(&message, bytes.data(), sizeof message);
  if (message.magic != protocol_magic || message.version != protocol_version) {
    why = "notify message with wrong magic or version " + std::to_string(message.version);
    return std::nullopt;
  }
  const auto kind = static_cast<std::uint8_t>(message.kind);
  if (kind < static_cast<std::uint8_t>(NotifyKind::update) || kind > static_cast<std::uint8_t>(NotifyKind::rejected)) {
    why = "notify message of unknown kind " + std::to_string(kind);
    return std::nullopt;
  }
  return message;
}

std::optional<ControlMessage> parse_control(std::span<const std::byte> bytes, std::string& why) {
  if (bytes.size() != sizeof(ControlMessage)) {
    why = "control message of " + std::to_string(bytes.size()) + " bytes, expected " +
          std::to_string(sizeof(ControlMessage));
    return std::nullopt;
  }
  ControlMessage message;
  std::memcpy(&message, bytes.data(), sizeof message);
  if (message.magic != protocol_magic || message.version != protocol_version) {
    why = "control message with wrong magic or version " + std::to_string(message.version);
    return std::nullopt;
  }
  if (message.kind != ControlKind::hello && message.kind != ControlKind::bye) {
    why = "control message of unknown kind " + std::to_string(static_cast<unsigned>(message.kind));
    return std::nullopt;
  }
  if (message.pid <= 0) {
    why = "control message with pid " + std::to_string(message.pid);
    return std::nullopt;
  }
  const void* terminator = std::memchr(message.id, 0, sizeof message.id);
  if (terminator == nullptr || !is_valid_name(id_of(message), max_subscriber_id_length)) {
    why = "control message with an invalid subscriber id";
    return std::nullopt;
  }
  return message;
}

ControlMessage make_control(ControlKind kind, std::string_view id, pid_t pid, std::uint64_t epoch,
                            std::uint64_t fingerprint, std::uint32_t flags, std::uint64_t nonce) {
  SHMSNAP_EXPECTS(is_valid_name(id, max_subscriber_id_length));
  ControlMessage message;
  message.kind = kind;
  message.flags = flags;
  message.pid = pid;
  message.epoch = epoch;
  message.fingerprint = fingerprint;
  message.nonce = nonce;
  std::memcpy(message.id, id.data(), id.size());
  return message;
}

}  // namespace shmsnap
