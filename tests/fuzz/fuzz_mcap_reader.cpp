// libFuzzer target: the MCAP reader (recording/mcap/reader.hpp) on arbitrary bytes,
// i.e. whatever file a user hands to `shmsnap info`, `replay` or `record --recover`.
// Property: scan() either returns (a complete or cut file) or throws shmsnap::Error;
// it never reads outside the bytes (ASan), never allocates without bound (the chunk
// limit below), and every message it hands out lies inside a validated chunk or the
// file and names a declared channel.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mcap/reader.hpp"
#include "shmsnap/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::uint64_t seen = 0;
  std::uint64_t checksum = 0;
  try {
    const shmsnap::mcap::ScanResult result = shmsnap::mcap::scan(
        bytes, "fuzz.mcap",
        [&](const shmsnap::mcap::Schema* schema, const shmsnap::mcap::Channel& channel,
            const shmsnap::mcap::Message& message) {
          if (channel.id != message.channel_id || (schema != nullptr && schema->id != channel.schema_id))
            std::abort();
          for (const char c : message.data)  // touch every byte: ASan checks the view
            checksum += static_cast<unsigned char>(c);
          ++seen;
          return true;
        },
        shmsnap::mcap::ReadOptions{.max_chunk_size = 8U << 20});
    if (result.counted.message_count != seen)
      std::abort();
  } catch (const shmsnap::Error&) {  // NOLINT(bugprone-empty-catch): malformed input is the expected outcome
  }
  return checksum == 0xffffffffffffffffULL ? 1 : 0;
}
