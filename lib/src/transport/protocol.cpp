#include "shmsnap/detail/protocol.hpp"

#include <cstring>
#include <utility>

#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"

namespace shmsnap {

Parsed<NotifyMessage> parse_notify(std::span<const std::byte> bytes) {
  const auto invalid = [](std::string problem) { return Parsed<NotifyMessage>{std::nullopt, std::move(problem)}; };
  if (bytes.size() != sizeof(NotifyMessage)) {
    return invalid("notify message of " + std::to_string(bytes.size()) + " bytes, expected " +
                   std::to_string(sizeof(NotifyMessage)));
  }
  NotifyMessage message;
  std::memcpy(&message, bytes.data(), sizeof message);
  if (message.magic != protocol_magic || message.version != protocol_version) {
    return invalid("notify message with wrong magic or version " + std::to_string(message.version));
  }
  const auto kind = static_cast<std::uint8_t>(message.kind);
  if (kind < static_cast<std::uint8_t>(NotifyKind::update) || kind > static_cast<std::uint8_t>(NotifyKind::rejected)) {
    return invalid("notify message of unknown kind " + std::to_string(kind));
  }
  return {message, {}};
}

Parsed<ControlMessage> parse_control(std::span<const std::byte> bytes) {
  const auto invalid = [](std::string problem) { return Parsed<ControlMessage>{std::nullopt, std::move(problem)}; };
  if (bytes.size() != sizeof(ControlMessage)) {
    return invalid("control message of " + std::to_string(bytes.size()) + " bytes, expected " +
                   std::to_string(sizeof(ControlMessage)));
  }
  ControlMessage message;
  std::memcpy(&message, bytes.data(), sizeof message);
  if (message.magic != protocol_magic || message.version != protocol_version) {
    return invalid("control message with wrong magic or version " + std::to_string(message.version));
  }
  if (message.kind != ControlKind::hello && message.kind != ControlKind::bye) {
    return invalid("control message of unknown kind " + std::to_string(static_cast<unsigned>(message.kind)));
  }
  if (message.pid <= 0) {
    return invalid("control message with pid " + std::to_string(message.pid));
  }
  const void* terminator = std::memchr(message.id, 0, sizeof message.id);
  if (terminator == nullptr || !is_valid_name(id_of(message), max_subscriber_id_length)) {
    return invalid("control message with an invalid subscriber id");
  }
  return {message, {}};
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
