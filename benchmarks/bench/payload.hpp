// Layout and self-check of a bench message. The publisher stamps each message from its
// sequence number; the subscriber verifies the stamp after the copy-out, so a torn or
// mixed copy is detected whatever the transport. Pure functions, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace shmsnap::bench {

/// The first 32 bytes of every bench message.
struct MessageHeader {
  std::uint64_t seq = 0;        ///< 1-based publish sequence
  std::uint64_t check = 0;      ///< check_word(seq); a header mixed from two messages fails it
  std::int64_t publish_ns = 0;  ///< CLOCK_MONOTONIC taken just before publish
  std::uint64_t flags = 0;      ///< stop_flag on the message that ends a run
};

/// Size of MessageHeader; also the smallest message.
inline constexpr std::size_t header_bytes = sizeof(MessageHeader);
/// Set on the last message of a run: the subscriber reports and exits.
inline constexpr std::uint64_t stop_flag = 1;
/// Every payload size must be a multiple of this (the check words are 64-bit).
inline constexpr std::size_t payload_granularity = 8;

/// A well-mixed 64-bit value derived from `seq` (splitmix64 finaliser).
[[nodiscard]] std::uint64_t check_word(std::uint64_t seq) noexcept;

/// Writes header (seq, check, flags) and the pattern words for `seq`. One word per
/// 64-byte line plus the last word is enough: a torn copy tears at line granularity,
/// and stamping every word would cost the publisher more than the copy being measured.
void stamp_message(std::span<std::byte> message, std::uint64_t seq, std::uint64_t flags) noexcept;

/// Writes the publish time into an already stamped message.
void stamp_publish_time(std::span<std::byte> message, std::int64_t publish_ns) noexcept;

/// What a subscriber learns from a received message.
struct Inspection {
  MessageHeader header;
  bool intact = false;  ///< header check and every pattern word match header.seq
};

/// Reads the header and verifies the pattern words present in `message` (a message
/// shorter than the published size, such as the floor's header-only line, checks what it has).
[[nodiscard]] Inspection inspect_message(std::span<const std::byte> message) noexcept;

}  // namespace shmsnap::bench
