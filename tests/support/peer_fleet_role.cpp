// The fleet role of shmsnap-test-peer (see peer_roles.hpp): many topics from one
// process, so a test can show a page or a tool hundreds of live topics without
// starting hundreds of processes.
#include <mqueue.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/publisher.hpp"
#include "support/peer_roles.hpp"
#include "support/peer_signals.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {

using Clock = std::chrono::steady_clock;

std::string numbered(const std::string& stem, std::size_t index) {
  std::string number = std::to_string(index);
  number.insert(0, 4 - std::min<std::size_t>(4, number.size()), '0');
  return stem + number;
}

// Topics whose publisher died: each batch's child creates its topics, removes their
// control queues (a host holds only fs.mqueue.queues_max = 256 queues, so 500 live
// named topics cannot exist on a default host) and exits without closing them. Their
// regions stay, as a killed publisher's do, until `shmsnap clean`.
void leave_dead_topics(const std::string& prefix, const std::string& stem, std::size_t count) {
  constexpr std::size_t batch = 50;
  for (std::size_t first = 0; first < count; first += batch) {
    const pid_t child = fork();
    if (child == 0) {
      PublisherOptions options;
      options.prefix = prefix;
      options.slot_count = 2;
      std::vector<Publisher<TestSnapshot>> publishers;
      for (std::size_t index = first; index < std::min(count, first + batch); ++index) {
        publishers.push_back(Publisher<TestSnapshot>::create(numbered(stem, index), options));
        publishers.back().publish(TestSnapshot{TestSnapshot::make(index + 1)});
        mq_unlink(TopicNames(prefix, numbered(stem, index)).control_queue().c_str());
      }
      _exit(0);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      throw Error(Errc::system, "fleet-publisher: the child that leaves dead topics failed");
    }
  }
}

int run_fleet_publisher(const PeerArguments& args) {
  const auto count = static_cast<std::size_t>(args.number("topics", 100));
  const double rate = static_cast<double>(args.number("rate", 1));  // per topic
  const std::string stem = args.text("stem", "topic_");
  PublisherOptions options;
  options.prefix = args.text("prefix");
  options.slot_count = 2;
  const auto dead = static_cast<std::size_t>(args.number("dead", 0));
  leave_dead_topics(options.prefix, args.text("dead-stem", "gone_"), dead);
  std::vector<Publisher<TestSnapshot>> publishers;
  publishers.reserve(count);
  for (std::size_t index = 0; index < count; ++index) {
    publishers.push_back(Publisher<TestSnapshot>::create(numbered(stem, index), options));
    publishers.back().publish(TestSnapshot{TestSnapshot::make(1)});
  }
  say("READY topics=" + std::to_string(count) + " dead=" + std::to_string(dead) + " pid=" + std::to_string(getpid()));

  // Every topic at `rate`, spread over the period so the publishes do not bunch.
  const auto period = std::chrono::duration<double>(1.0 / rate);
  const auto start = Clock::now();
  std::uint64_t round = 1;
  while (stop_requested == 0) {
    ++round;
    for (std::size_t index = 0; index < count && stop_requested == 0; ++index) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                period * (static_cast<double>(round - 1) +
                                                          static_cast<double>(index) / static_cast<double>(count))));
      publishers[index].publish(TestSnapshot{TestSnapshot::make(round)});
    }
  }
  publishers.clear();  // every topic closed: regions and queues removed
  say("CLOSED topics=" + std::to_string(count));
  return 0;
}

}  // namespace shmsnap::test
