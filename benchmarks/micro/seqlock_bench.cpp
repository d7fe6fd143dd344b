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

// Returns the number of retries the read needed.
std::uint64_t read_slot(const Slot& slot, AlignedBuffer& destination, std::size_t size) noexcept {
  std::uint64_t retries = 0;
  for (;;) {
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

void BM_SeqlockWrite(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  Slot slot(size);
  AlignedBuffer source(size);
  for (auto _ : state) {
    write_slot(slot, source, size);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SeqlockWrite)->Apply(payload_sizes);

// The reference: memcpy between two buffers of the slot's size.
void BM_Memcpy(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  AlignedBuffer source(size);
  AlignedBuffer destination(size);
  for (auto _ : state) {
    std::memcpy(destination.data(), source.span().data(), size);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Memcpy)->Apply(payload_sizes);

// The portable copies (relaxed atomic words), outside the seqlock.
void BM_SharedWordsWrite(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  AlignedBuffer source(size);
  AlignedBuffer destination(size);
  for (auto _ : state) {
    shmsnap::copy_to_shared_words(destination.data(), source.span().data(), size);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SharedWordsWrite)->Apply(payload_sizes);

void BM_SharedWordsRead(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  AlignedBuffer source(size);
  AlignedBuffer destination(size);
  for (auto _ : state) {
    shmsnap::copy_from_shared_words(destination.data(), source.span().data(), size);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SharedWordsRead)->Apply(payload_sizes);

void BM_SeqlockRead(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  Slot slot(size);
  AlignedBuffer source(size);
  AlignedBuffer destination(size);
  write_slot(slot, source, size);
  for (auto _ : state) {
    benchmark::DoNotOptimize(read_slot(slot, destination, size));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SeqlockRead)->Apply(payload_sizes);

// Three slots and a published index, as in the region (DESIGN.md, K slots): a writer
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
  for (auto _ : state) {
    for (;;) {
      const Slot& slot = ring.slots[ring.published.load(std::memory_order_acquire)];
      const std::uint64_t begin = slot.lock.read_begin();
      if ((begin & 1U) == 0) {
        shmsnap::copy_from_shared(destination.data(), const_cast<Slot&>(slot).payload.data(), size);
        if (!slot.lock.read_retry(begin))
          break;
      }
      ++retries;
    }
    benchmark::ClobberMemory();
  }
  stop.store(true, std::memory_order_relaxed);
  writer.join();
  state.counters["retries_per_read"] =
      benchmark::Counter(static_cast<double>(retries), benchmark::Counter::kAvgIterations);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SeqlockReadUnderWriter)->Apply(payload_sizes)->UseRealTime();

}  // namespace
