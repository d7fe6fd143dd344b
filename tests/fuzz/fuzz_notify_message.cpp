// libFuzzer target: parse_notify on arbitrary bytes, i.e. anything a process
// with write access to a subscriber's notify queue may send it. Property: an
// accepted message has the exact size, magic, version and a known kind; anything
// else is refused with a reason.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "shmsnap/detail/protocol.hpp"

namespace {
void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                     reinterpret_cast<const std::byte*>(data) + size);
  const auto parsed = shmsnap::parse_notify(std::span(bytes.data(), bytes.size()));
  const auto& message = parsed.message;
  require(parsed.valid() == parsed.problem.empty());  // exactly one of the two
  if (!message) {
    return 0;
  }
  require(size == sizeof(shmsnap::NotifyMessage));
  require(message->magic == shmsnap::protocol_magic && message->version == shmsnap::protocol_version);
  const auto kind = static_cast<unsigned>(message->kind);
  require(kind >= static_cast<unsigned>(shmsnap::NotifyKind::update) &&
          kind <= static_cast<unsigned>(shmsnap::NotifyKind::rejected));
  return 0;
}
