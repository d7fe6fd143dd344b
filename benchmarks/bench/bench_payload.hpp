// BenchPayload<N>: the snapshot type the shmsnap transport publishes, exactly N bytes
// laid out as a MessageHeader (payload.hpp) followed by filler, with a hand-written
// schema descriptor and a fingerprint derived from it at compile time. Pure types.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "bench/payload.hpp"
#include "shmsnap/schema.hpp"

namespace shmsnap::bench {
namespace detail {

// A constexpr string builder: the descriptor JSON is generated from N at compile time
// so every size gets a correct one without a hand-maintained table.
struct DescriptorText {
  std::array<char, 768> chars{};
  std::size_t length = 0;

  constexpr void append(std::string_view text) {
    for (char c : text)
      chars[length++] = c;
  }
  constexpr void append(std::size_t number) {
    char digits[24]{};
    std::size_t count = 0;
    do {
      digits[count++] = static_cast<char>('0' + number % 10);
      number /= 10;
    } while (number != 0);
    while (count != 0)
      chars[length++] = digits[--count];
  }
  [[nodiscard]] constexpr std::string_view view() const { return {chars.data(), length}; }
};

constexpr DescriptorText make_descriptor(std::size_t size) {
  DescriptorText text;
  const std::size_t filler = size - header_bytes;
  text.append(R"({"name": "bench.payload_)");
  text.append(size);
  text.append(R"(", "version": 1, "size": )");
  text.append(size);
  text.append(R"(, "align": 8, "fields": [)"
              R"({"name": "seq", "offset": 0, "size": 8, "type": "u64"}, )"
              R"({"name": "check", "offset": 8, "size": 8, "type": "u64"}, )"
              R"({"name": "publish_ns", "offset": 16, "size": 8, "type": "i64"}, )"
              R"({"name": "flags", "offset": 24, "size": 8, "type": "u64"}, )"
              R"({"name": "filler", "offset": 32, "size": )");
  text.append(filler);
  text.append(R"(, "type": "u8", "count": )");
  text.append(filler);
  text.append("}]}");
  return text;
}

constexpr DescriptorText make_name(std::size_t size) {
  DescriptorText text;
  text.append("bench.payload_");
  text.append(size);
  return text;
}

// FNV-1a over the descriptor: equal layouts (same N) give equal fingerprints.
constexpr std::uint64_t fingerprint_of(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

template <std::size_t N>
struct BenchSchemaText {
  static constexpr DescriptorText descriptor = make_descriptor(N);
  static constexpr DescriptorText name = make_name(N);
};

}  // namespace detail

/// An N-byte snapshot: MessageHeader fields, then N - 32 filler bytes carrying the
/// pattern words of payload.hpp. The harness treats it as bytes.
template <std::size_t N>
struct BenchPayload {
  static_assert(N >= header_bytes && N % payload_granularity == 0, "payload size must be a multiple of 8, >= 32");

  std::uint64_t seq;
  std::uint64_t check;
  std::int64_t publish_ns;
  std::uint64_t flags;
  std::uint8_t filler[N - header_bytes];

  /// The schema of bench.payload_<N>, version 1.
  static constexpr SchemaInfo shmsnap_schema{
      .name = detail::BenchSchemaText<N>::name.view(),
      .version = 1,
      .fingerprint = detail::fingerprint_of(detail::BenchSchemaText<N>::descriptor.view()),
      .size = N,
      .descriptor = detail::BenchSchemaText<N>::descriptor.view()};
};

static_assert(Snapshot<BenchPayload<64>>);
static_assert(sizeof(BenchPayload<64>) == 64 && sizeof(BenchPayload<1048576>) == 1048576);
static_assert(offsetof(BenchPayload<64>, publish_ns) == offsetof(MessageHeader, publish_ns));
static_assert(offsetof(BenchPayload<64>, filler) == header_bytes);

/// Payload sizes the shmsnap transport is compiled for (one instantiation each);
/// 8 MiB is the capacity of the variable-size rows (a large topic carrying 64 KiB).
inline constexpr std::array<std::size_t, 10> bench_payload_sizes{64,    256,    1024,    4096,    16384,
                                                                 65536, 262144, 1048576, 4194304, 8388608};

/// Calls `visit.template operator()<N>()` for the N equal to `size`; false when
/// `size` is not one of bench_payload_sizes.
template <class Visit>
bool visit_payload_size(std::size_t size, Visit&& visit) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return ((size == bench_payload_sizes[I] ? (visit.template operator()<bench_payload_sizes[I]>(), true) : false) ||
            ...);
  }
  (std::make_index_sequence<bench_payload_sizes.size()>{});
}

}  // namespace shmsnap::bench
