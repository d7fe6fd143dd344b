// shmsnap-bridge-bench: the bridge path end to end on one machine, as two hosts
// would see it through NATS on loopback: a publish on "host A" (prefix A), the
// exporter, NATS JetStream KV, the importer, and a subscriber on "host B" (prefix
// B), with separate NATS connections for the two sides. Reports p50/p99 of
// publish -> payload in B's subscriber at a paced rate, and the throughput limit
// (values/s imported while A publishes flat out, over --topics keys at once, as one
// bridge per host carries every topic). Needs a running nats-server -js.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "bridge.hpp"
#include "latency_summary.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/schema.hpp"
#include "shmsnap/subscriber.hpp"

namespace {

using namespace std::chrono_literals;
using shmsnap::monotonic_ns;

struct Settings {
  std::string nats = "nats://127.0.0.1:4222";
  std::vector<std::size_t> payloads{64, 65536};
  int samples = 2000;
  double rate = 500;
  double throughput_seconds = 3;
  int topics = 1;
  bool import_all = false;  // B imports with `import --all` (one wildcard watch) instead of a watch per key
};

std::string descriptor_for(std::size_t size) {
  return fmt::format(R"({{"name":"bench.blob","version":1,"size":{},"align":8,"fields":[)"
                     R"({{"name":"sent_ns","offset":0,"size":8,"type":"i64"}},)"
                     R"({{"name":"fill","offset":8,"size":{},"type":"u8","count":{}}}]}})",
                     size, size - 8, size - 8);
}

double percentile_us(std::vector<std::int64_t> values, double fraction) {
  std::sort(values.begin(), values.end());
  return static_cast<double>(shmsnap::stats::percentile_of_sorted(values, fraction)) / 1e3;
}

void run_one(const Settings& settings, std::size_t payload) {
  const std::string tag = fmt::format("b{}x{}", payload, getpid());
  const std::string descriptor = descriptor_for(payload);
  const shmsnap::SchemaInfo schema{.name = "bench.blob",
                                   .version = 1,
                                   .fingerprint = shmsnap::descriptor_fingerprint(descriptor),
                                   .size = payload,
                                   .descriptor = descriptor};
  // Topic 0 ("blob") carries the latency samples; all of them the throughput run.
  std::vector<std::unique_ptr<shmsnap::UntypedPublisher>> publishers;
  shmsnap::bridge::BridgeConfig host_a;
  host_a.nats.urls = {settings.nats};
  host_a.nats.bucket = "shmsnap_bench";
  host_a.exporter.prefix = tag + "a";
  shmsnap::bridge::BridgeConfig host_b;
  host_b.nats = host_a.nats;
  host_b.importer.publisher.prefix = tag + "b";
  if (settings.import_all) {
    host_b.importer.all = true;
    host_b.importer.hosts = {tag};  // keys "<tag>.<topic>", imported as local topics of that name
    host_b.importer.own_host_id = tag + "b";
    host_b.importer.max_keys = static_cast<std::size_t>(settings.topics);
  }
  for (int index = 0; index < settings.topics; ++index) {
    const std::string topic = index == 0 ? "blob" : fmt::format("blob{}", index);
    const std::string key = fmt::format("{}.{}", tag, topic);
    publishers.push_back(std::make_unique<shmsnap::UntypedPublisher>(topic, schema, payload,
                                                                     shmsnap::PublisherOptions{.prefix = tag + "a"}));
    host_a.exporter.routes.push_back({.topic = topic, .key = key});
    if (!settings.import_all) {
      host_b.importer.routes.push_back({.key = key, .topic = key});
    }
  }
  std::vector<std::byte> buffer(payload);
  const auto publish_to = [&](shmsnap::UntypedPublisher& publisher) {
    const std::int64_t now = monotonic_ns();
    std::memcpy(buffer.data(), &now, sizeof now);
    publisher.publish(buffer.data(), buffer.size());
  };
  for (auto& publisher : publishers) {
    publish_to(*publisher);
  }
  const auto publish = [&] { publish_to(*publishers.front()); };
  shmsnap::bridge::Bridge exporter(host_a);
  shmsnap::bridge::Bridge importer(host_b);

  std::unique_ptr<shmsnap::UntypedSubscriber> subscriber;
  const auto deadline = monotonic_ns() + 30'000'000'000LL;
  while (!subscriber) {
    try {
      subscriber = std::make_unique<shmsnap::UntypedSubscriber>(tag + ".blob", nullptr,
                                                                shmsnap::SubscriberOptions{.prefix = tag + "b"});
    } catch (const shmsnap::Error&) {
      if (monotonic_ns() > deadline) {
        throw;
      }
      std::this_thread::sleep_for(10ms);
    }
  }
  std::vector<std::int64_t> latencies;
  latencies.reserve(static_cast<std::size_t>(settings.samples));
  subscriber->on_update([&](const shmsnap::UpdateInfo&) {
    std::int64_t sent = 0;
    std::memcpy(&sent, subscriber->bytes().data(), sizeof sent);
    latencies.push_back(monotonic_ns() - sent);
  });

  // Latency: paced publishes (no conflation), each waited for on B.
  const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / settings.rate));
  latencies.clear();
  for (int sample = 0; sample < settings.samples; ++sample) {
    const auto next = std::chrono::steady_clock::now() + period;
    const std::size_t before = latencies.size();
    publish();
    while (latencies.size() == before && subscriber->wait(100ms)) {
    }
    std::this_thread::sleep_until(next);
  }
  const std::size_t delivered = latencies.size();
  fmt::print(
      "payload {:>6} B: latency publish(A) -> subscriber(B) over {} samples at {} Hz: p50 {:.1f} us, p99 {:.1f} us"
      " ({} delivered)\n",
      payload, settings.samples, settings.rate, percentile_us(latencies, 0.5), percentile_us(latencies, 0.99),
      delivered);

  // Throughput: A publishes flat out; count what the exporter puts and B imports.
  const std::uint64_t exported_before = exporter.counters().exported.load();
  const std::uint64_t imported_before = importer.counters().imported.load();
  const std::int64_t start = monotonic_ns();
  const std::int64_t stop = start + static_cast<std::int64_t>(settings.throughput_seconds * 1e9);
  std::uint64_t published = 0;
  while (monotonic_ns() < stop) {
    publish_to(*publishers[published % publishers.size()]);
    ++published;
    subscriber->poll();
  }
  const double seconds = static_cast<double>(monotonic_ns() - start) / 1e9;
  const std::uint64_t exported_in_window = exporter.counters().exported.load() - exported_before;
  const std::uint64_t imported_in_window = importer.counters().imported.load() - imported_before;
  // What was exported but not yet imported arrives after the window: counted
  // until the importer has been idle for 500 ms, over the whole time it took.
  std::uint64_t imported_now = importer.counters().imported.load();
  std::int64_t last_change = monotonic_ns();
  while (monotonic_ns() - last_change < 500'000'000) {
    std::this_thread::sleep_for(50ms);
    subscriber->poll();
    if (const std::uint64_t latest = importer.counters().imported.load(); latest != imported_now) {
      imported_now = latest;
      last_change = monotonic_ns();
    }
  }
  const double drained_seconds = static_cast<double>(last_change - start) / 1e9;
  fmt::print(
      "payload {:>6} B: throughput over {:.1f} s and {} topic(s){}: published {:.0f}/s, exported {:.0f} values/s, "
      "imported {:.0f} values/s (the rest conflated: latest wins); with the backlog drained "
      "{:.0f} values/s imported over {:.1f} s\n",
      payload, seconds, settings.topics, settings.import_all ? " (import --all)" : "",
      static_cast<double>(published) / seconds, static_cast<double>(exported_in_window) / seconds,
      static_cast<double>(imported_in_window) / seconds,
      static_cast<double>(imported_now - imported_before) / drained_seconds, drained_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("End-to-end latency and throughput of shmsnap-bridge through a running nats-server -js",
               "shmsnap-bridge-bench");
  Settings settings;
  app.add_option("--nats", settings.nats, "NATS URL");
  app.add_option("--payload", settings.payloads, "snapshot sizes in bytes (>= 16)")->check(CLI::Range(16, 1 << 20));
  app.add_option("--samples", settings.samples, "latency samples per size")->check(CLI::PositiveNumber);
  app.add_option("--rate", settings.rate, "paced publishes per second for latency")->check(CLI::PositiveNumber);
  app.add_option("--seconds", settings.throughput_seconds, "throughput run per size")->check(CLI::PositiveNumber);
  app.add_option("--topics", settings.topics, "topics (keys) carried at once in the throughput run")
      ->check(CLI::Range(1, 4096));
  app.add_flag("--import-all", settings.import_all,
               "B imports every key of A's host with one wildcard watch (import --all), not one watch per key");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  try {
    for (const std::size_t payload : settings.payloads) {
      run_one(settings, payload);
    }
  } catch (const shmsnap::Error& error) {
    std::cerr << "shmsnap-bridge-bench: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
