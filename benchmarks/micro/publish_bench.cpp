// publish() as its caller sees it, against the number of subscribers and the fan-out
// policy: FanOut::caller pays one mq_send per subscriber inside publish(), while
// FanOut::notifier_thread hands that to a background thread. Subscribers live in this
// process, each drained by its own thread, so the notify queues behave as in service.
// Beside it, the read side of a variable-size topic: one subscriber's copy of the
// newest snapshot when the topic's capacity is larger than what each publish uses.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "bench/aligned_buffer.hpp"
#include "bench/bench_payload.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/subscriber.hpp"

namespace {

using Payload = shmsnap::bench::BenchPayload<64>;

// Built with append: GCC 12 raises a false -Wrestrict on `"literal" + std::string`
// (GCC bug 105329).
std::string unique_prefix() {
  static int counter = 0;
  std::string prefix("shmsnapmicro");
  prefix.append(std::to_string(getpid())).append("n").append(std::to_string(counter++));
  return prefix;
}

std::string subscriber_id(int index) {
  std::string id("s");
  id.append(std::to_string(index));
  return id;
}

void BM_PublishCallerCost(benchmark::State& state) {
  const auto subscriber_count = static_cast<int>(state.range(0));
  shmsnap::PublisherOptions publisher_options;
  publisher_options.prefix = unique_prefix();
  publisher_options.fan_out = state.range(1) == 0 ? shmsnap::FanOut::caller : shmsnap::FanOut::notifier_thread;
  auto publisher = shmsnap::Publisher<Payload>::create("micro", publisher_options);

  std::vector<shmsnap::Subscriber<Payload>> subscribers;
  for (int index = 0; index < subscriber_count; ++index) {
    shmsnap::SubscriberOptions options;
    options.prefix = publisher_options.prefix;
    options.id = subscriber_id(index);
    subscribers.push_back(shmsnap::Subscriber<Payload>::open("micro", options));
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> drainers;
  for (auto& subscriber : subscribers) {
    drainers.emplace_back([&stop, &subscriber] {
      while (!stop.load(std::memory_order_relaxed))
        subscriber.wait(std::chrono::milliseconds(10));
    });
  }

  Payload value{};
  for (auto _ : state) {
    ++value.seq;
    benchmark::DoNotOptimize(publisher.publish(value));
  }
  stop.store(true, std::memory_order_relaxed);
  for (auto& drainer : drainers)
    drainer.join();
  const auto stats = publisher.stats();
  state.counters["coalesced_per_publish"] =
      benchmark::Counter(static_cast<double>(stats.coalesced), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_PublishCallerCost)
    ->ArgsProduct({{0, 1, 2, 4, 8, 16, 64}, {0, 1}})
    ->ArgNames({"subscribers", "notifier_thread"})
    ->UseRealTime();

// One copy of the newest snapshot (RegionReader::try_read, what Subscriber::wait does
// under the seqlock) of a topic of `capacity` bytes whose publish used `used` of them,
// into a local buffer of the capacity, as the subscriber's own state is. A topic of
// 8 MiB carrying 64 KiB should cost what a 64 KiB topic does (issue 22).
template <std::size_t Capacity>
void read_used_prefix(benchmark::State& state, std::size_t used) {
  using Topic = shmsnap::bench::BenchPayload<Capacity>;
  shmsnap::PublisherOptions publisher_options;
  publisher_options.prefix = unique_prefix();
  auto publisher = shmsnap::Publisher<Topic>::create("micro", publisher_options);
  shmsnap::bench::AlignedBuffer source(Capacity);
  publisher.publish(*reinterpret_cast<const Topic*>(source.data()), used);
  shmsnap::SubscriberOptions options;
  options.prefix = publisher_options.prefix;
  options.id = subscriber_id(0);
  auto subscriber = shmsnap::Subscriber<Topic>::open("micro", options);
  const shmsnap::RegionReader* region = subscriber.core().region();
  if (region == nullptr) {
    state.SkipWithError("the subscriber is not attached");
    return;
  }
  shmsnap::bench::AlignedBuffer destination(Capacity);
  shmsnap::SnapshotMeta meta;
  std::uint64_t retries = 0;
  for (auto _ : state) {
    if (region->try_read(destination.span(), meta, retries) != shmsnap::ReadStatus::ok) {
      state.SkipWithError("try_read did not return ok");
      return;
    }
    benchmark::ClobberMemory();
  }
  if (meta.used_bytes != used)
    state.SkipWithError("the snapshot's used length is not the one published");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(used));
}

void BM_TopicReadUsed(benchmark::State& state) {
  const auto capacity = static_cast<std::size_t>(state.range(0));
  const auto used = static_cast<std::size_t>(state.range(1));
  if (!shmsnap::bench::visit_payload_size(capacity, [&]<std::size_t N>() { read_used_prefix<N>(state, used); })) {
    state.SkipWithError("capacity is not one of bench_payload_sizes");
  }
}
BENCHMARK(BM_TopicReadUsed)
    ->Args({65536, 65536})
    ->Args({8388608, 65536})
    ->Args({8388608, 8388608})
    ->ArgNames({"capacity", "used"});

}  // namespace
