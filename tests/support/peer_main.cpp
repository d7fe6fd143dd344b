// shmsnap-test-peer: the publisher or subscriber process of the multi-process
// tests. It speaks in single stdout lines of key=value pairs that tests wait for:
//   publisher:  READY epoch=E | SUBSCRIBERS n=N | PUBLISHED last=S coalesced=C ...
//   subscriber: ATTACHED seq=S has_value=B epoch=E | STALE seq=S | REATTACHED epoch=E
//               | DONE final=S delivered=D torn=T regress=R
// Exit code 0 only when every invariant held; 2 for a usage error, 3 for an Error.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/subscriber.hpp"
#include "support/peer_cli.hpp"
#include "support/test_snapshot.hpp"

namespace {

using shmsnap::test::PeerArguments;
using shmsnap::test::run_peer;
using shmsnap::test::say;

using shmsnap::test::TestSnapshot;
using Clock = std::chrono::steady_clock;

volatile sig_atomic_t stop_requested = 0;
volatile sig_atomic_t go_received = 0;
void request_stop(int) {
  stop_requested = 1;
}
void receive_go(int) {
  go_received = 1;
}

int run_publisher(const PeerArguments& args) {
  shmsnap::PublisherOptions options{.prefix = args.text("prefix"),
                                    .slot_count = static_cast<std::uint32_t>(args.number("slots", 3)),
                                    .max_subscribers = static_cast<std::uint32_t>(args.number("max-subscribers", 64))};
  if (const auto fault_at = args.number("fault-at", 0); fault_at != 0) {
    // Read by this executable's fault-injection point (tests/support/fault_injection.cpp).
    setenv("SHMSNAP_FAULT_KILL_MID_WRITE_AT", std::to_string(fault_at).c_str(), 1);
  }
  if (args.text("fan-out") == "thread") {
    options.fan_out = shmsnap::FanOut::notifier_thread;
  }
  auto publisher = shmsnap::Publisher<TestSnapshot>::create(args.text("topic"), options);
  say("READY epoch=" + std::to_string(publisher.epoch()) + " pid=" + std::to_string(getpid()));

  const auto wait_for = static_cast<std::uint64_t>(args.number("wait-subscribers", 0));
  const auto give_up = Clock::now() + std::chrono::seconds(30);
  while (publisher.stats().subscribers < wait_for && Clock::now() < give_up && stop_requested == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  say("SUBSCRIBERS n=" + std::to_string(publisher.stats().subscribers));
  // With --wait-go 1 the test decides when publishing starts (SIGUSR1), e.g. after
  // it has stopped a subscriber.
  while (args.number("wait-go", 0) != 0 && go_received == 0 && stop_requested == 0 && Clock::now() < give_up) {
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
  const shmsnap::PublisherStats stats = publisher.stats();
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
    const shmsnap::PublisherStats now = publisher.stats();
    if (now.reclaimed != last_reclaimed || now.subscribers != last_subscribers) {
      last_reclaimed = now.reclaimed;
      last_subscribers = now.subscribers;
      say("TABLE subscribers=" + std::to_string(now.subscribers) + " reclaimed=" + std::to_string(now.reclaimed));
    }
  }
  publisher.shutdown();
  say("CLOSED");
  return 0;
}

int run_subscriber(const PeerArguments& args) {
  shmsnap::SubscriberOptions options{.prefix = args.text("prefix"), .id = args.text("id")};
  if (const long long trusted = args.number("trust-owner", -1); trusted >= 0) {
    options.trusted_owners.push_back(static_cast<uid_t>(trusted));
  }
  const std::string mode = args.text("mode", "notify");
  options.mode = mode == "spin"     ? shmsnap::WaitMode::spin
                 : mode == "hybrid" ? shmsnap::WaitMode::hybrid
                                    : shmsnap::WaitMode::notify;
  const auto deadline = Clock::now() + std::chrono::milliseconds(args.number("timeout-ms", 30'000));
  const std::uint64_t until_seq = static_cast<std::uint64_t>(args.number("until-seq", 0));
  const std::uint64_t until_epoch = static_cast<std::uint64_t>(args.number("until-epoch", 0));

  auto subscriber = [&] {
    while (true) {
      try {
        return shmsnap::Subscriber<TestSnapshot>::open(args.text("topic"), options);
      } catch (const shmsnap::Error& failure) {
        if (failure.code() != shmsnap::Errc::not_found || Clock::now() >= deadline) {
          throw;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }();

  std::uint64_t torn = 0;
  std::uint64_t regressions = 0;
  std::uint64_t delivered = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t epoch = subscriber.info().epoch;
  const auto check = [&](const TestSnapshot& snapshot, const shmsnap::UpdateInfo& info) {
    torn += (snapshot.intact() && snapshot.seq == info.seq) ? 0 : 1;
    if (info.epoch == epoch && info.seq <= last_seq) {
      ++regressions;
    }
    epoch = info.epoch;
    last_seq = info.seq;
    ++delivered;
  };
  if (subscriber.has_value()) {
    check(subscriber.latest(), subscriber.info());
  }
  say("ATTACHED seq=" + std::to_string(subscriber.latest().seq) +
      " has_value=" + std::to_string(subscriber.has_value() ? 1 : 0) + " epoch=" + std::to_string(epoch) +
      " intact=" + std::to_string(subscriber.latest().intact() ? 1 : 0));

  subscriber.on_update(check);
  subscriber.on_status([&](shmsnap::StatusEvent event, const shmsnap::UpdateInfo& info) {
    if (event == shmsnap::StatusEvent::publisher_lost) {
      say("STALE seq=" + std::to_string(info.seq) + " intact=" + std::to_string(subscriber.latest().intact() ? 1 : 0));
    } else {
      say("REATTACHED epoch=" + std::to_string(info.epoch));
    }
  });
  const auto satisfied = [&] {
    return (until_seq == 0 || last_seq >= until_seq) && (until_epoch == 0 || epoch >= until_epoch) &&
           !subscriber.stale();
  };
  while (!satisfied() && stop_requested == 0) {
    if (Clock::now() >= deadline) {
      say("TIMEOUT last=" + std::to_string(last_seq) + " epoch=" + std::to_string(epoch) +
          " stale=" + std::to_string(subscriber.stale() ? 1 : 0));
      return 1;
    }
    subscriber.wait(std::chrono::milliseconds(50));
  }
  const shmsnap::SubscriberStats stats = subscriber.stats();
  say("DONE final=" + std::to_string(last_seq) + " delivered=" + std::to_string(delivered) +
      " torn=" + std::to_string(torn) + " regress=" + std::to_string(regressions) + " epoch=" + std::to_string(epoch) +
      " retries=" + std::to_string(stats.retries) + " skipped=" + std::to_string(stats.skipped));
  // Stay attached until told to leave, when asked to (tests of the publisher's table).
  if (args.number("linger", 0) != 0) {
    while (stop_requested == 0) {
      subscriber.wait(std::chrono::milliseconds(50));
    }
  }
  return torn == 0 && regressions == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGTERM, request_stop);
  signal(SIGINT, request_stop);
  signal(SIGUSR1, receive_go);
  return run_peer(argc, argv, "shmsnap-test-peer", run_publisher, run_subscriber);
}
