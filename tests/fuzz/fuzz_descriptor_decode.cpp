// Fuzz target: an arbitrary descriptor and arbitrary snapshot bytes. Input layout:
// 2 bytes little-endian descriptor length L, L bytes of descriptor, then the bytes.
// Decoding must never crash or read out of bounds (a bounded sequence's count never
// reads past the bytes given); bad input must be a shmsnap::Error;
// decoded JSON must always dump (valid UTF-8); encode(decode(x)) must decode to the
// same JSON; the compatibility check must accept a descriptor against itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include <shmsnap/error.hpp>
#include <shmsnap/schema.hpp>
#include <shmsnap/schema_json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  std::size_t length = static_cast<std::size_t>(data[0]) | (static_cast<std::size_t>(data[1]) << 8U);
  if (length > size - 2)
    length = size - 2;
  const std::string_view descriptor(reinterpret_cast<const char*>(data + 2), length);
  const auto bytes = std::as_bytes(std::span<const std::uint8_t>(data + 2 + length, size - 2 - length));

  const std::string verdict = shmsnap::schema_incompatibility(descriptor, descriptor);
  try {
    const shmsnap::SnapshotCodec codec(descriptor);
    if (!verdict.empty())
      std::abort();  // a valid descriptor is compatible with itself
    // A bounded sequence decodes from its used prefix: anything from min_size() on.
    if (bytes.size() < codec.min_size()) {
      try {
        (void)codec.decode(bytes);
        std::abort();
      } catch (const shmsnap::Error& e) {
        if (e.code() != shmsnap::Errc::invalid_argument)
          std::abort();
      }
      return 0;
    }
    if (codec.used_size(bytes) < codec.min_size() || codec.used_size(bytes) > codec.size())
      std::abort();
    const nlohmann::json decoded = codec.decode(bytes);
    (void)decoded.dump();
    (void)codec.decode_ordered(bytes).dump();
    try {
      const auto encoded = codec.encode(decoded);
      if (codec.decode(encoded) != decoded)
        std::abort();
    } catch (const shmsnap::Error& e) {
      // Only a string whose invalid bytes grew into U+FFFD may fail to fit again.
      if (e.code() != shmsnap::Errc::invalid_argument)
        std::abort();
      if (std::string(e.what()).find("holds at most") == std::string::npos)
        std::abort();
    }
  } catch (const shmsnap::Error& e) {
    if (e.code() != shmsnap::Errc::invalid_region)
      std::abort();
    if (verdict.empty())
      std::abort();  // an invalid descriptor must not be called compatible
  }
  return 0;
}
