// Seqlock over one snapshot slot in shared memory: a single writer (the topic's
// publisher thread) and any number of readers in other processes.
//
// Writer: write_begin (sequence odd) -> copy_to_shared -> write_end (even, release).
// Reader: read_begin (acquire; odd = retry) -> copy_from_shared -> read_retry.
// The writer never reads the shared word back: it keeps its own copy of each
// slot's sequence in process memory, so nothing written into the region (a stray
// store, a hostile user with write access) can invert the odd/even protocol.
// The payload copy (copy_to_shared / copy_from_shared) has two implementations:
// - portable: relaxed 64-bit atomic accesses, so a racing read is a defined (if
//   useless) value instead of undefined behaviour, and ThreadSanitizer sees no race;
// - x86-64 (GCC/Clang, not under TSan): `rep movsb` in inline assembly, which runs at
//   memcpy speed (the word loop reached a fifth to a half of it; see
//   benchmarks/README.md). Why that is not undefined behaviour is explained above
//   copy_to_shared.
// A reader that raced a writer retries either way.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "shmsnap/error.hpp"

namespace shmsnap {

// Which copy the build uses. TSan cannot see inside inline assembly, so a TSan build
// keeps the atomic path (which it understands) and checks the protocol around it.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHMSNAP_SEQLOCK_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define SHMSNAP_SEQLOCK_TSAN 1
#endif
// NOLINTBEGIN(cppcoreguidelines-macro-usage): chosen by the preprocessor, it selects code that
// must not be compiled elsewhere (x86-64 inline assembly)
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SHMSNAP_SEQLOCK_TSAN)
#define SHMSNAP_SEQLOCK_ASM_COPY 1
#else
#define SHMSNAP_SEQLOCK_ASM_COPY 0
#endif
// NOLINTEND(cppcoreguidelines-macro-usage)

/// Portable writer copy: `size` bytes from process-local memory into a shared slot
/// whose address is 8-byte aligned, one relaxed atomic 64-bit store per word.
inline void copy_to_shared_words(void* shared_destination, const void* local_source, std::size_t size) noexcept {
  auto* words = static_cast<std::uint64_t*>(shared_destination);
  const auto* bytes = static_cast<const unsigned char*>(local_source);
  const std::size_t whole_words = size / 8;
  for (std::size_t i = 0; i < whole_words; ++i) {
    std::uint64_t word;  // NOLINT(cppcoreguidelines-init-variables): the memcpy below fills all 8 bytes
    std::memcpy(&word, bytes + i * 8, 8);
    std::atomic_ref<std::uint64_t>(words[i]).store(word, std::memory_order_relaxed);
  }
  if (const std::size_t tail = size % 8; tail != 0) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes + whole_words * 8, tail);
    std::atomic_ref<std::uint64_t>(words[whole_words]).store(word, std::memory_order_relaxed);
  }
}

/// Portable reader copy: `size` bytes out of a shared slot (8-byte aligned, readable
/// up to the next multiple of 8) into process-local memory through relaxed atomic loads.
inline void copy_from_shared_words(void* local_destination, const void* shared_source, std::size_t size) noexcept {
  // atomic_ref<const T> is not C++20; a load never writes, so the cast is safe
  // even on a PROT_READ mapping.
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): see the comment above
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

#if SHMSNAP_SEQLOCK_ASM_COPY
namespace detail {
/// Below this the word loop is as fast as `rep movsb` (whose start-up costs tens of
/// cycles on CPUs without FSRM), so small snapshots keep the atomic path.
inline constexpr std::size_t string_copy_threshold = 256;

/// `rep movsb` of `size` bytes. The asm names its pointer and count registers as
/// operands and clobbers "memory": the compiler must assume it reads and writes any
/// memory, so it neither reorders ordinary or atomic accesses across it nor reasons
/// about the bytes it moves.
inline void string_copy(void* destination, const void* source, std::size_t size) noexcept {
  asm volatile("rep movsb" : "+D"(destination), "+S"(source), "+c"(size) : : "memory");
}
}  // namespace detail
#endif

// Why the x86-64 copy is sound. A seqlock reader copies bytes a writer may be storing
// at that moment; the result is used only if the sequence re-check (read_retry) says
// no write overlapped, and is discarded otherwise. With plain C++ loads that overlap
// is a data race, which is undefined behaviour even though the value is thrown away;
// the standard's answer is P1478 (std::atomic_load_per_byte_memcpy /
// atomic_store_per_byte_memcpy: a memcpy whose racing bytes are merely unspecified),
// not yet available. Until then:
// - the portable path uses what C++20 has, relaxed atomics per word: defined, but the
//   compiler cannot vectorise them (22 GB/s against memcpy's 45 GB/s at 64 KiB on the
//   development VM, BM_SharedWordsRead vs BM_Memcpy; 7-14 GB/s in unoptimised runs);
// - on x86-64 the copy is one `rep movsb` in inline assembly. The compiler treats the
//   asm as an opaque instruction with the memory effects its clobber declares, so the
//   C++ abstract machine contains no racing access for the optimiser to exploit, and
//   the hardware defines what a racing `rep movsb` does (each byte is some value that
//   was stored, the same guarantee P1478 gives). The memory clobber also keeps the
//   copy between the sequence accesses as far as the compiler is concerned.
// - the hardware ordering: stores (and loads) inside one fast-string operation may be
//   performed out of order with each other (Intel SDM vol. 3, 8.2.4), and the SDM says
//   little about their order against the instructions around them. So the writer
//   brackets the copy with sfence (no payload store is visible before the odd sequence
//   or after the even one) and the reader with lfence (every payload load is performed
//   after the first sequence load and before the re-check). Two fences per copy of at
//   least 256 bytes cost a few nanoseconds.
// ThreadSanitizer cannot see inside asm, so TSan builds use the portable path and
// check the protocol around it.

/// Copies `size` bytes from process-local memory into a shared slot whose address
/// is 8-byte aligned (see above for the implementation used). Writer only, between
/// Seqlock::write_begin and write_end.
inline void copy_to_shared(void* shared_destination, const void* local_source, std::size_t size) noexcept {
#if SHMSNAP_SEQLOCK_ASM_COPY
  if (size >= detail::string_copy_threshold) {
    asm volatile("sfence" ::: "memory");
    detail::string_copy(shared_destination, local_source, size);
    asm volatile("sfence" ::: "memory");
    return;
  }
#endif
  copy_to_shared_words(shared_destination, local_source, size);
}

/// Copies `size` bytes out of a shared slot (8-byte aligned, readable up to the next
/// multiple of 8) into process-local memory. Reader only, between Seqlock::read_begin
/// and read_retry; the copy is meaningful only if read_retry returns false.
inline void copy_from_shared(void* local_destination, const void* shared_source, std::size_t size) noexcept {
#if SHMSNAP_SEQLOCK_ASM_COPY
  if (size >= detail::string_copy_threshold) {
    asm volatile("lfence" ::: "memory");
    detail::string_copy(local_destination, shared_source, size);
    asm volatile("lfence" ::: "memory");
    return;
  }
#endif
  copy_from_shared_words(local_destination, shared_source, size);
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
