// Failover under load, measured (label `chaos`: a soak, kept out of the sanitizer
// runs): a 3-node JetStream cluster on loopback with a 3-replica bucket, an exporter
// and an importer as two separate NATS clients, and a 500 Hz publisher. Ten times, a
// node picked at random is SIGKILLed and started again. The gap recorded for a
// kill is the longest pause a subscriber on the importing side sees from the kill
// until 250 updates arrived after the restart (the importer's publish times, so a
// second pause after the first resumption counts too). Prints
// each gap and their p50, p99 and maximum (the figures in bridge/README.md). It
// asserts only that updates resume after every kill: speed belongs in figures.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bridge.hpp"
#include "cluster_bridge.hpp"
#include "nats_server.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/subscriber.hpp"
#include "support/fixture.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {
namespace {

using namespace std::chrono_literals;

constexpr int kill_count = 10;

class BridgeFailover : public ProcessTest {
 protected:
  void SetUp() override {
    ProcessTest::SetUp();
    if (nats_server_path().empty()) {
      GTEST_SKIP() << "nats-server is not installed (Debian: apt-get install nats-server)";
    }
  }

  void TearDown() override {
    const std::vector<std::string> left = remove_leftovers(remote_prefix_);
    EXPECT_TRUE(left.empty()) << "left behind: " << ::testing::PrintToString(left);
    ProcessTest::TearDown();
  }

  const std::string remote_prefix_ = prefix_ + "b";
};

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

TEST_F(BridgeFailover, UpdatesResumeAfterEachOfTenKillsOfARandomNodeUnderLoad) {
  std::vector<std::unique_ptr<NatsServer>> nodes = start_three_node_cluster();
  bridge::BridgeConfig exporting;
  bridge::BridgeConfig importing;
  for (const auto& node : nodes) {
    exporting.nats.urls.push_back(node->url());
    importing.nats.urls.insert(importing.nats.urls.begin(), node->url());  // likely another node than the exporter's
  }
  exporting.nats.replicas = importing.nats.replicas = 3;
  exporting.exporter = {.prefix = prefix_, .routes = {{.topic = "failover"}}, .heartbeat = 200ms};
  importing.importer.routes = {{.key = "failover"}};
  importing.importer.publisher.prefix = remote_prefix_;

  UntypedPublisher publisher("failover", TestSnapshot::shmsnap_schema, sizeof(TestSnapshot),
                             PublisherOptions{.prefix = prefix_});
  std::uint64_t published = 0;
  const auto publish_next = [&] {
    const auto snapshot = TestSnapshot::make(++published);
    publisher.publish(&snapshot, sizeof snapshot);
  };
  publish_next();
  std::unique_ptr<bridge::Bridge> exporter = bridge_when_cluster_ready(exporting);
  ASSERT_TRUE(exporter);
  std::unique_ptr<bridge::Bridge> importer = bridge_when_cluster_ready(importing);
  ASSERT_TRUE(importer);
  // A jthread: stopped and joined even when an assertion below returns early.
  std::jthread feeder([&](const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      publish_next();
      std::this_thread::sleep_for(2ms);  // a 500 Hz feed
    }
  });

  std::unique_ptr<UntypedSubscriber> subscriber;
  ASSERT_TRUE(eventually(
      [&] {
        try {
          subscriber = std::make_unique<UntypedSubscriber>("failover", &TestSnapshot::shmsnap_schema,
                                                           SubscriberOptions{.prefix = remote_prefix_});
          return true;
        } catch (const Error&) {
          return false;
        }
      },
      patience));
  // The importer's publish times, in order: a gap is read from them, not from when
  // this thread happened to poll.
  std::vector<std::int64_t> publish_times;
  subscriber->on_update([&](const UpdateInfo& info) {
    if (!info.stale) {
      publish_times.push_back(info.publish_ts_ns);
    }
  });
  const auto updates_after = [&](std::size_t count) {
    const std::size_t target = publish_times.size() + count;
    return eventually(
        [&] {
          subscriber->poll();
          return publish_times.size() >= target;
        },
        patience);
  };
  ASSERT_TRUE(updates_after(20)) << importer->counters().summary();

  const auto seed = static_cast<std::uint32_t>(std::random_device{}());
  std::mt19937 random(seed);
  std::vector<double> gaps_ms;
  for (int kill = 1; kill <= kill_count; ++kill) {
    const std::size_t victim = std::uniform_int_distribution<std::size_t>(0, nodes.size() - 1)(random);
    const std::string role = nodes[victim]->url() == exporter->link().connected_url()   ? "the exporter's node"
                             : nodes[victim]->url() == importer->link().connected_url() ? "the importer's node"
                                                                                        : "a node neither uses";
    nodes[victim]->kill();
    const std::int64_t killed_ns = monotonic_ns();
    ASSERT_TRUE(eventually(
        [&] {
          subscriber->poll();
          return !publish_times.empty() && publish_times.back() > killed_ns;
        },
        patience))
        << "kill " << kill << " (seed " << seed << "): updates did not resume; exporter "
        << exporter->counters().summary() << "; importer " << importer->counters().summary();
    // The node comes back, and the cluster settles, before the next kill.
    nodes[victim]->start();
    ASSERT_TRUE(updates_after(250)) << "after restarting " << nodes[victim]->url();
    // The longest pause from the publish before the kill to the last one now.
    const auto first_after = std::upper_bound(publish_times.begin(), publish_times.end(), killed_ns);
    std::int64_t gap_ns = 0;
    for (auto later = first_after; later != publish_times.end(); ++later) {
      if (later != publish_times.begin()) {
        gap_ns = std::max(gap_ns, *later - *std::prev(later));
      }
    }
    const double gap_ms = static_cast<double>(gap_ns) / 1e6;
    gaps_ms.push_back(gap_ms);
    std::cout << fmt::format("failover kill {:2}: {} ({}) killed; longest gap {:.0f} ms\n", kill, nodes[victim]->url(),
                             role, gap_ms);
  }
  feeder.request_stop();
  feeder.join();
  std::cout << fmt::format(
      "failover over {} kills (seed {}): gap p50 {:.0f} ms, p99 {:.0f} ms, max {:.0f} ms; exporter {}; importer {}\n",
      gaps_ms.size(), seed, percentile(gaps_ms, 0.5), percentile(gaps_ms, 0.99),
      *std::max_element(gaps_ms.begin(), gaps_ms.end()), exporter->counters().summary(),
      importer->counters().summary());
  RecordProperty("failover_gap_p99_ms", std::to_string(percentile(gaps_ms, 0.99)));
  importer.reset();
  exporter.reset();
  subscriber.reset();
}

}  // namespace
}  // namespace shmsnap::test
