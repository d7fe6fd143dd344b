// Schema descriptor micro-benchmarks: parsing a descriptor into a codec (what a tool
// does once per topic) and decoding one snapshot to JSON (what `shmsnap dump` does
// per snapshot).
#include <benchmark/benchmark.h>

#include <vector>

#include "bench/bench_payload.hpp"
#include "shmsnap/schema_json.hpp"

namespace {

using Payload = shmsnap::bench::BenchPayload<256>;

void BM_DescriptorParse(benchmark::State& state) {
  for (auto _ : state) {
    shmsnap::SnapshotCodec codec(Payload::shmsnap_schema.descriptor);
    benchmark::DoNotOptimize(codec.size());
  }
}
BENCHMARK(BM_DescriptorParse);

void BM_SnapshotDecode(benchmark::State& state) {
  const shmsnap::SnapshotCodec codec(Payload::shmsnap_schema.descriptor);
  std::vector<std::byte> bytes(sizeof(Payload));
  for (auto _ : state)
    benchmark::DoNotOptimize(codec.decode(bytes));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_SnapshotDecode);

}  // namespace
