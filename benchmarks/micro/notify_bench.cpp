// Notification path micro-benchmarks on the library's MessageQueue: one UPDATE sent and
// received, and a burst sent then drained the way a waking subscriber drains its queue.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <string>

#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/detail/protocol.hpp"

namespace {

struct ScratchQueue {
  explicit ScratchQueue(long depth)
      : name("/shmsnapmicro" + std::to_string(getpid()) + ".notify"),
        queue(shmsnap::MessageQueue::create(name, {.max_messages = depth,
                                                   .message_size = sizeof(shmsnap::NotifyMessage),
                                                   .mode = 0600,
                                                   .access = shmsnap::MessageQueue::Access::read_write,
                                                   .exclusive = true,
                                                   .nonblocking = true,
                                                   .strict_limits = false})) {}
  ~ScratchQueue() { shmsnap::MessageQueue::unlink(name); }
  std::string name;
  shmsnap::MessageQueue queue;
};

shmsnap::NotifyMessage update_message() {
  shmsnap::NotifyMessage message;
  message.kind = shmsnap::NotifyKind::update;
  message.seq = 1;
  return message;
}

void BM_NotifySendReceive(benchmark::State& state) {
  ScratchQueue scratch(10);
  const auto message = update_message();
  alignas(8) std::byte buffer[sizeof(shmsnap::NotifyMessage)];
  for (auto _ : state) {
    scratch.queue.send(shmsnap::as_bytes(message), shmsnap::update_priority);
    benchmark::DoNotOptimize(scratch.queue.receive(buffer));
  }
}
BENCHMARK(BM_NotifySendReceive);

// `k` notifications pending, drained until EAGAIN: the subscriber's wake-up cost
// grows with how far it fell behind, even though it copies the snapshot only once.
void BM_NotifyDrainBurst(benchmark::State& state) {
  const long burst = state.range(0);
  ScratchQueue scratch(burst);
  const auto message = update_message();
  alignas(8) std::byte buffer[sizeof(shmsnap::NotifyMessage)];
  for (auto _ : state) {
    state.PauseTiming();
    for (long i = 0; i < burst; ++i)
      scratch.queue.send(shmsnap::as_bytes(message), shmsnap::update_priority);
    state.ResumeTiming();
    while (scratch.queue.receive(buffer).status == shmsnap::QueueStatus::ok) {
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * burst);
}
BENCHMARK(BM_NotifyDrainBurst)->Arg(1)->Arg(4)->Arg(10);

// A send into a full queue: what publish() pays per subscriber that is behind (the
// notification is coalesced into the pending one).
void BM_NotifySendFull(benchmark::State& state) {
  ScratchQueue scratch(1);
  const auto message = update_message();
  scratch.queue.send(shmsnap::as_bytes(message), shmsnap::update_priority);
  for (auto _ : state)
    benchmark::DoNotOptimize(scratch.queue.send(shmsnap::as_bytes(message), shmsnap::update_priority));
}
BENCHMARK(BM_NotifySendFull);

}  // namespace
