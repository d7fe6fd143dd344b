// libFuzzer target: parse_attach_header and parse_attach_frame on arbitrary bytes,
// i.e. anything a client that may connect to a topic's socket can send (and what a
// publisher impostor can answer). Properties: the header check alone decides the
// frame's length (body_size within attach_max_body_size, so a reader's buffer is
// bounded before it reads); an accepted frame is exactly that long, carries a valid
// id or printable text, and re-encodes to the same bytes; the parser never reads
// past its input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>
#include <vector>

#include "shmsnap/detail/attach_handshake.hpp"
#include "shmsnap/names.hpp"

namespace {
void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so a read past the end is a heap overflow ASan sees.
  const std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                     reinterpret_cast<const std::byte*>(data) + size);
  const std::span<const std::byte> input(bytes.data(), bytes.size());
  const auto header = shmsnap::parse_attach_header(input);
  require(header.valid() == header.problem.empty());
  if (header.valid()) {
    require(header.message->body_size <= shmsnap::attach_max_body_size);
  }
  const auto parsed = shmsnap::parse_attach_frame(input);
  require(parsed.valid() == parsed.problem.empty());
  if (!parsed.valid()) {
    return 0;
  }
  require(header.valid());
  require(size == shmsnap::attach_header_size + header.message->body_size);
  const shmsnap::AttachFrame& frame = *parsed.message;
  if (const auto* hello = std::get_if<shmsnap::AttachHello>(&frame)) {
    require(shmsnap::is_valid_name(hello->id, shmsnap::max_subscriber_id_length));
  } else if (const auto* rejected = std::get_if<shmsnap::AttachRejected>(&frame)) {
    require(rejected->text.size() <= shmsnap::attach_max_reason_length);
    require(shmsnap::reason_text(rejected->text) == rejected->text);
  } else if (const auto* welcome = std::get_if<shmsnap::AttachWelcome>(&frame)) {
    require(welcome->epoch != 0 && welcome->region_size != 0);
  }
  require(shmsnap::attach_descriptor_count(frame) <= 1);
  // Strict decoding: one frame has one encoding, so what was accepted re-encodes identically.
  require(shmsnap::encode_attach_frame(frame) == bytes);
  return 0;
}
