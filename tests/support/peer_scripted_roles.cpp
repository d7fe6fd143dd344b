// The scripted roles of shmsnap-test-peer (see peer_roles.hpp): what the
// integration tests start, wait for line by line, and judge by the exit code.
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "support/delivery_check.hpp"
#include "support/peer_roles.hpp"
#include "support/peer_setup.hpp"
#include "support/peer_signals.hpp"

namespace shmsnap::test {

using Clock = std::chrono::steady_clock;

int run_scripted_publisher(const PeerArguments& args) {
  auto publisher = create_announced_publisher(args, 3);

  const auto wait_for = static_cast<std::uint64_t>(args.number("wait-subscribers", 0));
  const auto give_up = Clock::now() + std::chrono::seconds(30);
  while (publisher.stats().subscribers < wait_for && Clock::now() < give_up && stop_requested == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  say("SUBSCRIBERS n=" + std::to_string(publisher.stats().subscribers));
  // With --wait-go 1 the test decides when publishing starts (SIGUSR1), e.g. after
  // it has stopped a subscriber.
  while (args.number("wait-go", 0) != 0 && usr1_received == 0 && stop_requested == 0 && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

  const long long count = args.number("count", 0);
  const long long interval_us = args.number("interval-us", 0);
  const std::uint64_t first = static_cast<std::uint64_t>(args.number("first-seq", 1));
  for (long long index = 0; index < count && stop_requested == 0; ++index) {
    // The payload's own seq is the publish sequence of this epoch, so readers can
    // check it against UpdateInfo::seq.
    const TestSnapshot snapshot{TestSnapshot::make(first + static_cast<std::uint64_t>(index))};
    publisher.publish(snapshot);
    if (interval_us > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(interval_us));
    }
  }
  const PublisherStats stats = publisher.stats();
  say("PUBLISHED last=" + std::to_string(publisher.last_seq()) + " coalesced=" + std::to_string(stats.coalesced) +
      " notified=" + std::to_string(stats.notified) + " subscribers=" + std::to_string(stats.subscribers) +
      " reclaimed=" + std::to_string(stats.reclaimed));

  // Hold the topic open until told to stop (or for hold-ms), reporting table changes.
  const long long hold_ms = args.number("hold-ms", -1);
  const auto hold_until = Clock::now() + std::chrono::milliseconds(hold_ms < 0 ? 60'000 : hold_ms);
  std::uint64_t last_reclaimed = stats.reclaimed;
  std::uint64_t last_subscribers = stats.subscribers;
  while (stop_requested == 0 && Clock::now() < hold_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const PublisherStats now = publisher.stats();
    if (now.reclaimed != last_reclaimed || now.subscribers != last_subscribers) {
      last_reclaimed = now.reclaimed;
      last_subscribers = now.subscribers;
      say("TABLE subscribers=" + std::to_string(now.subscribers) + " reclaimed=" + std::to_string(now.reclaimed));
    }
  }
  close_announced_publisher(publisher);
  return 0;
}

int run_scripted_subscriber(const PeerArguments& args) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(args.number("timeout-ms", 30'000));
  const std::uint64_t until_seq = static_cast<std::uint64_t>(args.number("until-seq", 0));
  const std::uint64_t until_epoch = static_cast<std::uint64_t>(args.number("until-epoch", 0));

  // Waits for a publisher to appear; any other failure ends the role with an ERROR line.
  auto subscriber =
      *open_subscriber(args, subscriber_options(args), std::chrono::milliseconds(10), [&](const Error& failure) {
        return failure.code() == Errc::not_found && Clock::now() < deadline ? AfterFailedOpen::retry
                                                                            : AfterFailedOpen::rethrow;
      });

  std::uint64_t torn = 0;
  std::uint64_t regressions = 0;
  DeliveryCheck deliveries(subscriber.info().epoch);
  const auto check = [&](const TestSnapshot& snapshot, const UpdateInfo& info) {
    const DeliveryVerdict verdict = deliveries.check(snapshot, info);
    torn += verdict.torn ? 1 : 0;
    regressions += verdict.regressed ? 1 : 0;
  };
  if (subscriber.has_value()) {
    check(subscriber.latest(), subscriber.info());
  }
  say("ATTACHED seq=" + std::to_string(subscriber.latest().seq) + " has_value=" +
      std::to_string(subscriber.has_value() ? 1 : 0) + " epoch=" + std::to_string(deliveries.last_epoch()) +
      " intact=" + std::to_string(subscriber.latest().intact() ? 1 : 0));

  subscriber.on_update(check);
  subscriber.on_status([&](StatusEvent event, const UpdateInfo& info) {
    if (event == StatusEvent::publisher_lost) {
      say("STALE seq=" + std::to_string(info.seq) + " intact=" + std::to_string(subscriber.latest().intact() ? 1 : 0));
    } else {
      say("REATTACHED epoch=" + std::to_string(info.epoch));
    }
  });
  const auto satisfied = [&] {
    return (until_seq == 0 || deliveries.last_seq() >= until_seq) &&
           (until_epoch == 0 || deliveries.last_epoch() >= until_epoch) && !subscriber.stale();
  };
  while (!satisfied() && stop_requested == 0) {
    if (Clock::now() >= deadline) {
      say("TIMEOUT last=" + std::to_string(deliveries.last_seq()) +
          " epoch=" + std::to_string(deliveries.last_epoch()) + " stale=" + std::to_string(subscriber.stale() ? 1 : 0));
      return 1;
    }
    subscriber.wait(std::chrono::milliseconds(50));
  }
  const SubscriberStats stats = subscriber.stats();
  say("DONE final=" + std::to_string(deliveries.last_seq()) + " delivered=" + std::to_string(deliveries.delivered()) +
      " torn=" + std::to_string(torn) + " regress=" + std::to_string(regressions) +
      " epoch=" + std::to_string(deliveries.last_epoch()) + " retries=" + std::to_string(stats.retries) +
      " skipped=" + std::to_string(stats.skipped));
  // Stay attached until told to leave, when asked to (tests of the publisher's table).
  if (args.number("linger", 0) != 0) {
    while (stop_requested == 0) {
      subscriber.wait(std::chrono::milliseconds(50));
    }
  }
  return torn == 0 && regressions == 0 ? 0 : 1;
}

}  // namespace shmsnap::test
