// Seqlock over one snapshot slot in shared memory: a single writer (the topic's
// publisher thread) and any number of readers in other processes.
//
// Writer: write_begin (sequence odd) -> copy_to_shared -> write_end (even, release).
// Reader: read_begin (acquire; odd = retry) -> copy_from_shared -> read_retry.
// The writer never reads the shared word back: it keeps its own copy of each
// slot's sequence in process memory, so nothing written into the region (a stray
// store, a hostile user with write access) can invert the odd/even protocol.
// The payload is copied through relaxed 64-bit atomic accesses, so a racing
// read is a defined (if useless) value instead of undefined behaviour, and
// ThreadSanitizer sees no data race. A reader that raced a writer retries.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "shmsnap/error.hpp"

namespace shmsnap {

/// Copies `size` bytes from process-local memory into a shared slot whose address
/// is 8-byte aligned, one relaxed atomic 64-bit store per word. Writer only.
inline void copy_to_shared(void* shared_destination, const void* local_source, std::size_t size) noexcept {
  auto* words = static_cast<std::uint64_t*>(shared_destination);
  const auto* bytes = static_cast<const unsigned char*>(local_source);
  const std::size_t whole_words = size / 8;
  for (std::size_t i = 0; i < whole_words; ++i) {
    std::uint64_t word;
    std::memcpy(&word, bytes + i * 8, 8);
    std::atomic_ref<std::uint64_t>(words[i]).store(word, std::memory_order_relaxed);
  }
  if (const std::size_t tail = size % 8; tail != 0) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes + whole_words * 8, tail);
    std::atomic_ref<std::uint64_t>(words[whole_words]).store(word, std::memory_order_relaxed);
  }
}

/// Copies `size` bytes out of a shared slot (8-byte aligned, readable up to the
/// next multiple of 8) into process-local memory through relaxed atomic loads.
inline void copy_from_shared(void* local_destination, const void* shared_source, std::size_t size) noexcept {
  // atomic_ref<const T> is not C++20; a load never writes, so the cast is safe
  // even on a PROT_READ mapping.
  auto* words = const_cast<std::uint64_t*>(static_cast<const std::uint64_t*>(shared_source));
  auto* bytes = static_cast<unsigned char*>(local_destination);
  const std::size_t whole_words = size / 8;
  for (std::size_t i = 0; i < whole_words; ++i) {
    const std::uint64_t word = std::atomic_ref<std::uint64_t>(words[i]).load(std::memory_order_relaxed);
    std::memcpy(bytes + i * 8, &word, 8);
  }
  if (const std::size_t tail = size % 8; tail != 0) {
    const std::uint64_t word = std::atomic_ref<std::uint64_t>(words[whole_words]).load(std::memory_order_relaxed);
    std::memcpy(bytes + whole_words * 8, &word, tail);
  }
}

/// The sequence word of one slot. Even: stable; odd: a write is in progress.
class Seqlock {
 public:
  /// Writer: marks the slot as being written. `writer_sequence` is the writer's
  /// process-local copy of this word: even at rest, odd (after this call) while
  /// the slot is being written. A write already in progress is a contract violation.
  void write_begin(std::uint64_t& writer_sequence) noexcept {
    SHMSNAP_EXPECTS((writer_sequence & 1U) == 0 && "write_begin while a write of this slot is open");
    ++writer_sequence;
    sequence_.store(writer_sequence, std::memory_order_relaxed);
    // Pairs with the acquire fence in read_retry: a reader that sees any payload
    // word stored after this fence also sees the odd sequence, and retries.
    std::atomic_thread_fence(std::memory_order_release);
  }

  /// Writer: publishes the payload stored since write_begin(writer_sequence).
  void write_end(std::uint64_t& writer_sequence) noexcept {
    SHMSNAP_EXPECTS((writer_sequence & 1U) == 1 && "write_end without write_begin");
    ++writer_sequence;
    // Pairs with the acquire load in read_begin: a reader that sees the even value
    // sees every payload word stored before it.
    sequence_.store(writer_sequence, std::memory_order_release);
  }

  /// Reader: the sequence to hand to read_retry; odd means "writer active, retry".
  [[nodiscard]] std::uint64_t read_begin() const noexcept {
    return sequence_.load(std::memory_order_acquire);  // pairs with write_end
  }

  /// Reader: true when the copy made since read_begin(`begin`) may be torn.
  [[nodiscard]] bool read_retry(std::uint64_t begin) const noexcept {
    // Pairs with the release fence in write_begin (see there).
    std::atomic_thread_fence(std::memory_order_acquire);
    return (begin & 1U) != 0 || sequence_.load(std::memory_order_relaxed) != begin;
  }

  /// The raw word, for diagnostics (a stuck odd value means the writer died mid-write).
  [[nodiscard]] std::uint64_t peek() const noexcept { return sequence_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> sequence_{0};
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "shmsnap needs lock-free 64-bit atomics");
static_assert(sizeof(Seqlock) == 8);

}  // namespace shmsnap
