// shmsnap-churn-bench: what subscribers attaching and detaching cost a publisher.
// One thread publishes at a fixed rate and times every publish() call; churn
// threads meanwhile open and close subscribers in a loop, so the publisher's
// control thread registers and unregisters them the whole time. Prints the
// publish() p50/p99/p99.9/max with N subscribers attached, then with the same N
// detaching and re-attaching one at a time.
//   shmsnap-churn-bench [--subscribers 100] [--seconds 5] [--rate 10000]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>

#include "latency_summary.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/subscriber.hpp"

namespace {

struct ChurnSnapshot {
  std::uint64_t seq;
  std::uint64_t words[7];
  static constexpr shmsnap::SchemaInfo shmsnap_schema{
      .name = "bench.churn",
      .version = 1,
      .fingerprint = 0x6368'7572'6e00'0001ULL,
      .size = 64,
      .descriptor = R"({"name":"bench.churn","version":1,"size":64,"align":8,"fields":[)"
                    R"({"name":"seq","offset":0,"size":8,"type":"u64"},)"
                    R"({"name":"words","offset":8,"size":56,"type":"u64","count":7}]})"};
};
static_assert(sizeof(ChurnSnapshot) == 64);

struct Settings {
  int subscribers = 100;
  double seconds = 5;
  double rate = 10'000;
};

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int index = 1; index + 1 < argc; index += 2) {
    const std::string_view flag = argv[index];
    const double value = std::strtod(argv[index + 1], nullptr);
    if (flag == "--subscribers") {
      settings.subscribers = static_cast<int>(value);
    } else if (flag == "--seconds") {
      settings.seconds = value;
    } else if (flag == "--rate") {
      settings.rate = value;
    } else {
      std::fprintf(stderr, "usage: %s [--subscribers N] [--seconds S] [--rate HZ]\n", argv[0]);
      std::exit(2);
    }
  }
  return settings;
}

double percentile_us(const std::vector<std::int64_t>& sorted, double fraction) {
  return static_cast<double>(shmsnap::stats::percentile_of_sorted(sorted, fraction)) / 1000.0;
}

// Publishes at `rate` for `seconds`; returns each publish() call's duration (ns).
std::vector<std::int64_t> timed_publishes(shmsnap::Publisher<ChurnSnapshot>& publisher, const Settings& settings) {
  using Clock = std::chrono::steady_clock;
  std::vector<std::int64_t> durations;
  durations.reserve(static_cast<std::size_t>(settings.rate * settings.seconds) + 16);
  const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / settings.rate));
  const auto end = Clock::now() + std::chrono::nanoseconds(static_cast<std::int64_t>(settings.seconds * 1e9));
  ChurnSnapshot snapshot{};
  for (auto next = Clock::now(); next < end; next += period) {
    std::this_thread::sleep_until(next);  // leave the cores to the churn and the control thread
    ++snapshot.seq;
    const auto before = Clock::now();
    publisher.publish(snapshot);
    durations.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - before).count());
  }
  std::sort(durations.begin(), durations.end());
  return durations;
}

void report(const char* label, std::vector<std::int64_t>& sorted, std::uint64_t attaches) {
  std::printf("%-28s publishes=%zu attach+detach=%llu  p50=%.2f us  p99=%.2f us  p99.9=%.2f us  max=%.2f us\n", label,
              sorted.size(), static_cast<unsigned long long>(attaches), percentile_us(sorted, 0.5),
              percentile_us(sorted, 0.99), percentile_us(sorted, 0.999), static_cast<double>(sorted.back()) / 1000.0);
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse(argc, argv);
  const std::string prefix = "churnbench" + std::to_string(getpid());
  auto publisher = shmsnap::Publisher<ChurnSnapshot>::create(
      "churn", {.prefix = prefix, .max_subscribers = static_cast<std::uint32_t>(settings.subscribers + 4)});
  const auto open_subscriber = [&](int id) {
    return shmsnap::Subscriber<ChurnSnapshot>::open("churn", {.prefix = prefix, .id = "churn" + std::to_string(id)});
  };

  // The same N subscribers in both phases, so the fan-out costs the same; only the
  // re-registering differs.
  std::vector<std::optional<shmsnap::Subscriber<ChurnSnapshot>>> subscribers(
      static_cast<std::size_t>(settings.subscribers));
  for (int id = 0; id < settings.subscribers; ++id) {
    subscribers[static_cast<std::size_t>(id)].emplace(open_subscriber(id));
  }
  auto steady = timed_publishes(publisher, settings);
  report("publish(), N steady", steady, 0);

  // Two churn threads, each detaching and re-attaching its half of the ids one at a
  // time, so N-1 or N stay attached throughout.
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> attaches{0};
  std::vector<std::thread> churn;
  for (int thread = 0; thread < 2; ++thread) {
    churn.emplace_back([&, thread] {
      while (!stop.load(std::memory_order_relaxed)) {
        for (int id = thread; id < settings.subscribers && !stop.load(std::memory_order_relaxed); id += 2) {
          auto& held = subscribers[static_cast<std::size_t>(id)];
          held.reset();  // BYE, queue removed
          try {
            held.emplace(open_subscriber(id));
            attaches.fetch_add(1, std::memory_order_relaxed);
          } catch (const shmsnap::Error& failure) {
            std::fprintf(stderr, "attach failed: %s\n", failure.what());
          }
        }
      }
    });
  }
  auto churned = timed_publishes(publisher, settings);
  stop = true;
  for (std::thread& thread : churn) {
    thread.join();
  }
  report("publish(), N churning", churned, attaches.load());
  return 0;
}
