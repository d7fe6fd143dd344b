#include "support/peer_setup.hpp"

#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>

namespace shmsnap::test {

Publisher<TestSnapshot> create_announced_publisher(const PeerArguments& args, std::uint32_t default_slots) {
  PublisherOptions options{.prefix = args.text("prefix"),
                           .slot_count = static_cast<std::uint32_t>(args.number("slots", default_slots)),
                           .max_subscribers = static_cast<std::uint32_t>(args.number("max-subscribers", 64))};
  if (const auto fault_at = args.number("fault-at", 0); fault_at != 0) {
    // Read at create() by this executable's fault-injection point (tests/support/fault_injection.cpp).
    setenv("SHMSNAP_FAULT_KILL_MID_WRITE_AT", std::to_string(fault_at).c_str(), 1);
  }
  if (args.text("fan-out") == "thread") {
    options.fan_out = FanOut::notifier_thread;
  }
  auto publisher = Publisher<TestSnapshot>::create(args.text("topic"), options);
  say("READY epoch=" + std::to_string(publisher.epoch()) + " pid=" + std::to_string(getpid()));
  return publisher;
}

void close_announced_publisher(Publisher<TestSnapshot>& publisher) {
  const PublisherStats stats = publisher.stats();
  publisher.shutdown();
  say("CLOSED published=" + std::to_string(stats.published) + " coalesced=" + std::to_string(stats.coalesced) +
      " reclaimed=" + std::to_string(stats.reclaimed) + " send_errors=" + std::to_string(stats.send_errors));
}

SubscriberOptions subscriber_options(const PeerArguments& args) {
  SubscriberOptions options{.prefix = args.text("prefix"), .id = args.text("id")};
  if (const long long trusted = args.number("trust-owner", -1); trusted >= 0) {
    options.trusted_owners.push_back(static_cast<uid_t>(trusted));
  }
  const std::string mode = args.text("mode", "notify");
  options.mode = mode == "spin" ? WaitMode::spin : mode == "hybrid" ? WaitMode::hybrid : WaitMode::notify;
  return options;
}

std::optional<Subscriber<TestSnapshot>> open_subscriber(
    const PeerArguments& args, const SubscriberOptions& options, std::chrono::milliseconds pause,
    const std::function<AfterFailedOpen(const Error&)>& after_failure) {
  while (true) {
    try {
      return Subscriber<TestSnapshot>::open(args.text("topic"), options);
    } catch (const Error& failure) {
      switch (after_failure(failure)) {
        case AfterFailedOpen::retry:
          break;
        case AfterFailedOpen::give_up:
          return std::nullopt;
        case AfterFailedOpen::rethrow:
          throw;
      }
    }
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace shmsnap::test
