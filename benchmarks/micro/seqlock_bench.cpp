// Seqlock micro-benchmarks: one write and one read of a slot by payload size, and a
// read racing a writer on another thread, with the retry rate as a counter. Uses the
// library's Seqlock and copies exactly as the region does, beside a plain memcpy of
// the same size (the bandwidth the copies are measured against) and the portable
// relaxed-atomic word copies (what TSan and non-x86 builds use).
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cstring>
#include <thread>

#include "bench/aligned_buffer.hpp"
#include "shmsnap/seqlock.hpp"

namespace {

using shmsnap::bench::AlignedBuffer;

// A slot as in the region: the sequence word on its own line, then the payload.
struct Slot {
  explicit Slot(std::size_t size) : payload(size) {}
  alignas(64) shmsnap::Seqlock lock;
  std::uint64_t writer_sequence = 0;  // the writer's own copy of `lock`
  AlignedBuffer payload;
};

void write_slot(Slot& slot, const AlignedBuffer& source, std::size_t size) noexcept {
  slot.lock.write_begin(slot.writer_sequence);
  shmsnap::copy_to_shared(slot.payload.data(), source.span().data(), size);
  slot.lock.write_end(slot.writer_sequence);
}

// Copies out the slot that `current_slot()` names until the copy is consistent and
// returns the retries that took. The slot is asked for again on each retry, so a reader
// of a ring follows a writer that has moved on.
template <typename CurrentSlot>
std::uint64_t read_consistent(CurrentSlot&& current_slot, AlignedBuffer& destination, std::size_t size) noexcept {
  std::uint64_t retries = 0;
  for (;;) {
    const Slot& slot = current_slot();
    const std::uint64_t begin = slot.lock.read_begin();
    if ((begin & 1U) == 0) {
      shmsnap::copy_from_shared(destination.data(), const_cast<Slot&>(slot).payload.data(), size);
      if (!slot.lock.read_retry(begin))
        return retries;
    }
    ++retries;
  }
}

void payload_sizes(benchmark::internal::Benchmark* bench) {
  for (std::int64_t size = 64; size <= (1 << 20); size *= 4)
    bench->Arg(size);
}

// Runs `copy_once()` each iteration; every iteration moves the benchmark's payload size.
template <typename CopyOnce>
void measure_copies(benchmark::State& state, CopyOnce&& copy_once) {
  for (auto _ : state) {
    copy_once();
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

// `copy(destination, source, size)` between two plain buffers of the payload size, with
// no seqlock around it. The copy is a lambda so that it inlines as a direct call would.
template <typename Copy>
void measure_buffer_copies(benchmark::State& state, Copy&& copy) {
  const auto size = static_cast<std::size_t>(state.range(0));
  AlignedBuffer source(size);
  AlignedBuffer destination(size);
  measure_copies(state, [&] { copy(destination.data(), source.span().data(), size); });
}

void BM_SeqlockWrite(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  Slot slot(size);
  AlignedBuffer source(size);
  measure_copies(state, [&] { write_slot(slot, source, size); });
}
BENCHMARK(BM_SeqlockWrite)->Apply(payload_sizes);

// The reference: memcpy between two buffers of the slot's size.
void BM_Memcpy(benchmark::State& state) {
  measure_buffer_copies(
      state, [](void* destination, const void* source, std::size_t size) { std::memcpy(destination, source, size); });
}
BENCHMARK(BM_Memcpy)->Apply(payload_sizes);

// The portable copies (relaxed atomic words), outside the seqlock.
void BM_SharedWordsWrite(benchmark::State& state) {
  measure_buffer_copies(state, [](void* destination, const void* source, std::size_t size) {
    shmsnap::copy_to_shared_words(destination, source, size);
  });
}
BENCHMARK(BM_SharedWordsWrite)->Apply(payload_sizes);

void BM_SharedWordsRead(benchmark::State& state) {
  measure_buffer_copies(state, [](void* destination, const void* source, std::size_t size) {
    shmsnap::copy_from_shared_words(destination, source, size);
  });
}
BENCHMARK(BM_SharedWordsRead)->Apply(payload_sizes);

void BM_SeqlockRead(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  Slot slot(size);
  AlignedBuffer source(size);
  AlignedBuffer destination(size);
  write_slot(slot, source, size);
  measure_copies(state, [&] {
    benchmark::DoNotOptimize(read_consistent([&]() -> const Slot& { return slot; }, destination, size));
  });
}
BENCHMARK(BM_SeqlockRead)->Apply(payload_sizes);

// Three slots and a published index, as in the region (README.md, "The seqlock"): a writer
// on another thread publishes back to back, the reader copies the published slot and
// retries only when the writer lapped it. `retries_per_read` is the price of a writer
// that never pauses; with one slot a large reader would starve outright.
struct SlotRing {
  explicit SlotRing(std::size_t size) : slots{Slot(size), Slot(size), Slot(size)} {}
  std::array<Slot, 3> slots;
  alignas(64) std::atomic<std::uint32_t> published{0};
};

void BM_SeqlockReadUnderWriter(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  SlotRing ring(size);
  AlignedBuffer source(size);
  AlignedBuffer destination(size);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      const std::uint32_t next = (ring.published.load(std::memory_order_relaxed) + 1) % 3;
      write_slot(ring.slots[next], source, size);
      // Pairs with the reader's acquire load of `published`.
      ring.published.store(next, std::memory_order_release);
    }
  });
  std::uint64_t retries = 0;
  // Pairs with the writer's release store of `published`.
  const auto published_slot = [&]() -> const Slot& {
    return ring.slots[ring.published.load(std::memory_order_acquire)];
  };
  measure_copies(state, [&] { retries += read_consistent(published_slot, destination, size); });
  stop.store(true, std::memory_order_relaxed);
  writer.join();
  state.counters["retries_per_read"] =
      benchmark::Counter(static_cast<double>(retries), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_SeqlockReadUnderWriter)->Apply(payload_sizes)->UseRealTime();

}  // namespace
