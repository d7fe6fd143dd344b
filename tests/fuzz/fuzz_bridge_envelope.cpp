// libFuzzer target: decode_envelope on arbitrary bytes, i.e. any value anyone with
// write access to the bridge's Key-Value bucket may put. Property: an accepted
// envelope re-encodes to exactly the input and has a heartbeat period in range;
// anything else is refused with a reason.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "envelope.hpp"

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
  std::string why;
  const auto envelope = shmsnap::bridge::decode_envelope(std::span(bytes.data(), bytes.size()), why);
  if (!envelope) {
    require(!why.empty());
    return 0;
  }
  require(envelope->payload.size() + envelope->origin_host.size() + shmsnap::bridge::envelope_header_size == size);
  // An accepted value can always go stale: its heartbeat period is bounded.
  require(envelope->heartbeat_ms >= shmsnap::bridge::min_heartbeat_ms &&
          envelope->heartbeat_ms <= shmsnap::bridge::max_heartbeat_ms);
  std::vector<std::byte> encoded;
  shmsnap::bridge::encode_envelope(*envelope, encoded);
  require(encoded == bytes);
  return 0;
}
