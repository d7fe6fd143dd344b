// libFuzzer target: parse_control on arbitrary bytes, i.e. anything a local peer
// with write access may put on a topic's control queue. Property: an accepted
// message names a valid subscriber id whose notify queue lies inside the topic's
// own namespace ("/<prefix>:<topic>:sub:<id>", no further '/', within NAME_MAX),
// and the parser never reads past the message.
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/names.hpp"

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
  const auto parsed = shmsnap::parse_control(std::span(bytes.data(), bytes.size()));
  const auto& message = parsed.message;
  require(parsed.valid() == parsed.problem.empty());  // exactly one of the two
  if (!message) {
    return 0;
  }
  require(size == sizeof(shmsnap::ControlMessage));
  require(message->kind == shmsnap::ControlKind::hello || message->kind == shmsnap::ControlKind::bye);
  require(message->pid > 0);
  const std::string_view id = shmsnap::id_of(*message);
  require(shmsnap::is_valid_name(id, shmsnap::max_subscriber_id_length));
  require(id != "." && id != ".." && id.find('/') == std::string_view::npos);

  static const shmsnap::TopicNames names("fuzzprefix", "fuzz.topic");
  const std::string queue = names.notify_queue(id);
  const std::string inside = names.region() + shmsnap::name_separator + "sub" + shmsnap::name_separator;
  require(queue.compare(0, inside.size(), inside) == 0);
  require(queue.find('/', 1) == std::string::npos);
  require(queue.size() <= NAME_MAX);

  // Round trip: what the publisher would build for this id parses back the same.
  const shmsnap::ControlMessage rebuilt =
      shmsnap::make_control(message->kind, id, message->pid, message->epoch, message->fingerprint, message->flags);
  const auto again = shmsnap::parse_control(shmsnap::as_bytes(rebuilt)).message;
  require(again.has_value() && shmsnap::id_of(*again) == id);
  return 0;
}
