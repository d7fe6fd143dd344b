// shmsnap-record-load: the load for measuring `shmsnap record` (README, Recording):
// publishes topics of fixed-size raw payloads at fixed rates, each from its own
// thread, waits until every topic has a subscriber (the recorder) first, and prints
// how many snapshots each topic published, so the recorder's count can be compared.
// Usage: shmsnap-record-load --prefix P --duration S TOPIC:RATE_HZ:BYTES ...
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "shmsnap/clock.hpp"
#include "shmsnap/publisher.hpp"

namespace {

struct TopicLoad {
  std::string topic;
  double rate = 0;
  std::size_t bytes = 0;
  std::string descriptor;
  std::uint64_t published = 0;
};

std::string descriptor_for(std::size_t bytes) {
  const std::size_t filler = bytes - 16;
  return R"({"name": "load.payload_)" + std::to_string(bytes) + R"(", "version": 1, "size": )" + std::to_string(bytes) +
         R"(, "align": 8, "fields": [{"name": "seq", "offset": 0, "size": 8, "type": "u64"}, )"
         R"({"name": "publish_ns", "offset": 8, "size": 8, "type": "i64"}, {"name": "filler", "offset": 16, "size": )" +
         std::to_string(filler) + R"(, "type": "u8", "count": )" + std::to_string(filler) + "}]}";
}

// FNV-1a: a stable fingerprint of the descriptor text.
std::uint64_t fingerprint_of(const std::string& text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : text)
    hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return hash;
}

void run_topic(TopicLoad& load, const std::string& prefix, double duration, std::atomic<int>& ready, int topic_count) {
  const shmsnap::SchemaInfo schema{"load.payload", 1, fingerprint_of(load.descriptor), load.bytes, load.descriptor};
  shmsnap::UntypedPublisher publisher(load.topic, schema, load.bytes, shmsnap::PublisherOptions{.prefix = prefix});
  // Start publishing only once the recorder follows every topic.
  while (publisher.stats().subscribers == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ++ready;
  while (ready.load() < topic_count)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::vector<std::uint64_t> payload(load.bytes / 8);
  std::uint64_t state = 0x9e3779b97f4a7c15ULL ^ load.bytes;
  const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / load.rate));
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::nanoseconds(static_cast<std::int64_t>(duration * 1e9));
  auto next = start;
  while (next < end) {
    std::this_thread::sleep_until(next);
    payload[0] = load.published + 1;
    payload[1] = static_cast<std::uint64_t>(shmsnap::monotonic_ns());
    // A quarter of the payload changes each time (xorshift), the rest stays: data
    // that compresses somewhat, like real state.
    for (std::size_t i = 2; i < payload.size() / 4 + 2 && i < payload.size(); ++i) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      payload[i] = state;
    }
    publisher.publish(payload.data(), load.bytes);
    ++load.published;
    next += period;
  }
  // Give the recorder a moment to read the last snapshot before the topic closes.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

}  // namespace

int main(int argc, char** argv) {
  std::string prefix;
  double duration = 10;
  std::vector<TopicLoad> loads;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--prefix" && i + 1 < argc) {
      prefix = argv[++i];
    } else if (arg == "--duration" && i + 1 < argc) {
      duration = std::stod(argv[++i]);
    } else {
      const auto first = arg.find(':');
      const auto second = arg.find(':', first + 1);
      if (first == std::string::npos || second == std::string::npos) {
        std::cerr << "usage: shmsnap-record-load [--prefix P] [--duration S] TOPIC:RATE_HZ:BYTES ...\n";
        return 2;
      }
      TopicLoad load;
      load.topic = arg.substr(0, first);
      load.rate = std::stod(arg.substr(first + 1, second - first - 1));
      load.bytes = std::stoul(arg.substr(second + 1));
      if (load.bytes < 64 || load.bytes % 8 != 0 || load.rate <= 0) {
        std::cerr << "shmsnap-record-load: BYTES must be a multiple of 8, at least 64; RATE_HZ > 0\n";
        return 2;
      }
      load.descriptor = descriptor_for(load.bytes);
      loads.push_back(std::move(load));
    }
  }
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (auto& load : loads)
    threads.emplace_back([&] { run_topic(load, prefix, duration, ready, static_cast<int>(loads.size())); });
  for (auto& thread : threads)
    thread.join();
  for (const auto& load : loads)
    std::cout << "published topic=" << load.topic << " count=" << load.published << " bytes=" << load.bytes << "\n";
  return 0;
}
