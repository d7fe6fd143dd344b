// Stamping and verification of bench messages (see payload.hpp).
#include "bench/payload.hpp"

#include <cstring>

namespace shmsnap::bench {
namespace {

constexpr std::size_t words_per_line = 64 / sizeof(std::uint64_t);
constexpr std::size_t first_pattern_word = header_bytes / sizeof(std::uint64_t);

std::uint64_t pattern_word(std::uint64_t check, std::size_t index) noexcept {
  return check ^ (static_cast<std::uint64_t>(index) * 0x9E3779B97F4A7C15ULL);
}

// memcpy keeps the accesses free of alignment and aliasing assumptions; it compiles
// to a plain load or store.
void store_word(std::span<std::byte> bytes, std::size_t index, std::uint64_t value) noexcept {
  std::memcpy(bytes.data() + index * sizeof value, &value, sizeof value);
}

std::uint64_t load_word(std::span<const std::byte> bytes, std::size_t index) noexcept {
  std::uint64_t value = 0;
  std::memcpy(&value, bytes.data() + index * sizeof value, sizeof value);
  return value;
}

// Calls visit(index) for every pattern word of a message of `words` words.
template <class Visit>
bool for_each_pattern_word(std::size_t words, Visit&& visit) noexcept {
  if (words <= first_pattern_word)
    return true;
  if (!visit(first_pattern_word))
    return false;
  for (std::size_t index = words_per_line; index < words; index += words_per_line) {
    if (!visit(index))
      return false;
  }
  return visit(words - 1);
}

}  // namespace

std::uint64_t check_word(std::uint64_t seq) noexcept {
  std::uint64_t z = seq + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31U);
}

void stamp_message(std::span<std::byte> message, std::uint64_t seq, std::uint64_t flags) noexcept {
  const MessageHeader header{.seq = seq, .check = check_word(seq), .publish_ns = 0, .flags = flags};
  std::memcpy(message.data(), &header, sizeof header);
  const std::uint64_t check = header.check;
  for_each_pattern_word(message.size() / sizeof(std::uint64_t), [&](std::size_t index) {
    store_word(message, index, pattern_word(check, index));
    return true;
  });
}

void stamp_publish_time(std::span<std::byte> message, std::int64_t publish_ns) noexcept {
  std::memcpy(message.data() + offsetof(MessageHeader, publish_ns), &publish_ns, sizeof publish_ns);
}

Inspection inspect_message(std::span<const std::byte> message) noexcept {
  Inspection result;
  if (message.size() < header_bytes)
    return result;
  std::memcpy(&result.header, message.data(), sizeof result.header);
  const std::uint64_t check = result.header.check;
  if (check != check_word(result.header.seq))
    return result;
  result.intact = for_each_pattern_word(message.size() / sizeof(std::uint64_t), [&](std::size_t index) {
    return load_word(message, index) == pattern_word(check, index);
  });
  return result;
}

}  // namespace shmsnap::bench
