// A hand-written snapshot type for the core tests: every word is derived from the
// sequence, so a torn copy (words from two publishes) is always detected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shmsnap/schema.hpp"

namespace shmsnap::test {

inline constexpr std::uint64_t mix(std::uint64_t seq, std::uint64_t index) noexcept {
  std::uint64_t value = seq * 0x9E3779B97F4A7C15ULL + index * 0xBF58476D1CE4E5B9ULL;
  value ^= value >> 31;
  return value * 0x94D049BB133111EBULL;
}

template <std::size_t Words>
struct CheckedSnapshot {
  std::uint64_t seq;
  std::uint64_t words[Words];
  std::uint64_t checksum;

  /// A snapshot whose every word derives from `sequence`.
  static constexpr CheckedSnapshot make(std::uint64_t sequence) noexcept {
    CheckedSnapshot snapshot{};
    snapshot.seq = sequence;
    std::uint64_t sum = sequence;
    for (std::size_t index = 0; index < Words; ++index) {
      snapshot.words[index] = mix(sequence, index);
      sum += snapshot.words[index];
    }
    snapshot.checksum = sum;
    return snapshot;
  }

  /// True when every word belongs to the same publish (zero state counts as intact).
  [[nodiscard]] bool intact() const noexcept {
    if (seq == 0 && checksum == 0) {
      return true;
    }
    std::uint64_t sum = seq;
    for (std::size_t index = 0; index < Words; ++index) {
      if (words[index] != mix(seq, index)) {
        return false;
      }
      sum += words[index];
    }
    return sum == checksum;
  }
};

// The fingerprints are the descriptors' own (shmsnap::descriptor_fingerprint), as a
// compiled schema's are: SchemaHardening.TheTestSnapshotsCarryTheirDescriptorsFingerprints.

/// 504 bytes: the type of the multi-process tests.
struct TestSnapshot : CheckedSnapshot<61> {
  static constexpr SchemaInfo shmsnap_schema{"test.checked", 1, 0xae7a'ff6a'2ec2'9516ULL, 504,
                                             R"({"name":"test.checked","version":1,"size":504,"align":8,"fields":[)"
                                             R"({"name":"seq","offset":0,"size":8,"type":"u64"},)"
                                             R"({"name":"words","offset":8,"size":488,"type":"u64","count":61},)"
                                             R"({"name":"checksum","offset":496,"size":8,"type":"u64"}]})"};
};
static_assert(sizeof(TestSnapshot) == 504);
static_assert(Snapshot<TestSnapshot>);

/// 64 KiB: large enough that a fast writer laps readers (stress tests).
struct LargeSnapshot : CheckedSnapshot<8190> {
  static constexpr SchemaInfo shmsnap_schema{"test.large", 1, 0x6bfd'a0d5'a7ec'24d6ULL, 65536,
                                             R"({"name":"test.large","version":1,"size":65536,"align":8,"fields":[)"
                                             R"({"name":"seq","offset":0,"size":8,"type":"u64"},)"
                                             R"({"name":"words","offset":8,"size":65520,"type":"u64","count":8190},)"
                                             R"({"name":"checksum","offset":65528,"size":8,"type":"u64"}]})"};
};
static_assert(sizeof(LargeSnapshot) == 65536);

}  // namespace shmsnap::test
