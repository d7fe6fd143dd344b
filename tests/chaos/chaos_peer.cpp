// shmsnap-chaos-peer: the publisher and subscriber processes of the chaos soak
// (shmsnap-chaos). Unlike shmsnap-test-peer they run until told to stop and
// report as they go, because the driver SIGKILLs them at random: a verdict
// printed only at exit would die with them.
//   publisher:  READY epoch=E pid=P | BURST n=N ns=T | FINAL epoch=E seq=S pid=P | CLOSED ...
//               SIGUSR1: publish a burst unpaced and time it; SIGUSR2: publish
//               one last snapshot and stop publishing; SIGTERM: shut down.
//   subscriber: STATE pid=P epoch=E seq=S stale=B delivered=D | TORN ... | REGRESS ...
//               | ATTACH_ERROR code=C | EPOCH_REUSE epoch=E before=B; SIGTERM: close cleanly.
// Exit code 0 on SIGTERM, 3 on an unexpected Error, 2 on a usage error.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
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
volatile sig_atomic_t burst_requested = 0;
volatile sig_atomic_t final_requested = 0;
void on_term(int) {
  stop_requested = 1;
}
void on_usr1(int) {
  burst_requested = 1;
}
void on_usr2(int) {
  final_requested = 1;
}

int run_publisher(const PeerArguments& args) {
  const shmsnap::PublisherOptions options{.prefix = args.text("prefix"),
                                          .slot_count = static_cast<std::uint32_t>(args.number("slots", 2))};
  auto publisher = shmsnap::Publisher<TestSnapshot>::create(args.text("topic"), options);
  say("READY epoch=" + std::to_string(publisher.epoch()) + " pid=" + std::to_string(getpid()));

  const auto rate = static_cast<double>(args.number("rate", 10'000));
  const auto burst_size = static_cast<std::uint64_t>(args.number("burst", 20'000));
  std::uint64_t seq = 0;
  const auto publish_next = [&] {
    // The payload's seq is the publish sequence of this epoch: readers check it
    // against UpdateInfo::seq, and every word against it (torn copies).
    const TestSnapshot snapshot{TestSnapshot::make(seq + 1)};
    seq = publisher.publish(snapshot);
  };
  const auto paced_start = Clock::now();
  std::uint64_t paced_base = 0;
  bool publishing = true;
  while (stop_requested == 0) {
    if (burst_requested != 0) {
      burst_requested = 0;
      const auto coalesced_before = publisher.stats().coalesced;
      const auto started = Clock::now();
      for (std::uint64_t index = 0; index < burst_size; ++index) {
        publish_next();
      }
      const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started).count();
      say("BURST n=" + std::to_string(burst_size) + " ns=" + std::to_string(elapsed) +
          " coalesced=" + std::to_string(publisher.stats().coalesced - coalesced_before) +
          " subscribers=" + std::to_string(publisher.stats().subscribers));
    }
    if (final_requested != 0 && publishing) {
      publishing = false;
      publish_next();
      say("FINAL epoch=" + std::to_string(publisher.epoch()) + " seq=" + std::to_string(seq) +
          " pid=" + std::to_string(getpid()));
    }
    if (publishing) {
      // Paced: catch up to rate * elapsed, then sleep a little.
      const double elapsed = std::chrono::duration<double>(Clock::now() - paced_start).count();
      const auto target = static_cast<std::uint64_t>(elapsed * rate);
      for (int budget = 0; paced_base < target && budget < 1000; ++budget, ++paced_base) {
        publish_next();
      }
      paced_base = std::max(paced_base, target > 1000 ? target - 1000 : 0);  // never bank a backlog
    }
    std::this_thread::sleep_for(std::chrono::microseconds(publishing ? 200 : 2000));
  }
  const shmsnap::PublisherStats stats = publisher.stats();
  publisher.shutdown();
  say("CLOSED published=" + std::to_string(stats.published) + " coalesced=" + std::to_string(stats.coalesced) +
      " reclaimed=" + std::to_string(stats.reclaimed) + " send_errors=" + std::to_string(stats.send_errors));
  return 0;
}

int run_subscriber(const PeerArguments& args) {
  const std::string mode = args.text("mode", "notify");
  const shmsnap::SubscriberOptions options{.prefix = args.text("prefix"),
                                           .id = args.text("id"),
                                           .mode = mode == "hybrid" ? shmsnap::WaitMode::hybrid
                                                   : mode == "spin" ? shmsnap::WaitMode::spin
                                                                    : shmsnap::WaitMode::notify};
  const auto deadline = Clock::now() + std::chrono::milliseconds(args.number("timeout-ms", 600'000));

  // Under chaos any attach may fail (no publisher yet, one dying mid-attach, an
  // epoch change): report it and try again until the deadline.
  std::optional<shmsnap::Subscriber<TestSnapshot>> subscriber;
  while (!subscriber && stop_requested == 0) {
    try {
      subscriber.emplace(shmsnap::Subscriber<TestSnapshot>::open(args.text("topic"), options));
    } catch (const shmsnap::Error& failure) {
      if (failure.code() != shmsnap::Errc::not_found) {
        say("ATTACH_ERROR code=" + std::string(shmsnap::to_string(failure.code())) + " message=" + failure.what());
      }
      if (Clock::now() >= deadline) {
        throw;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (!subscriber) {
    return 0;
  }

  std::uint64_t delivered = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t last_epoch = 0;
  bool changed = true;
  const auto check = [&](const TestSnapshot& snapshot, const shmsnap::UpdateInfo& info) {
    if (!snapshot.intact() || snapshot.seq != info.seq) {
      say("TORN seq=" + std::to_string(info.seq) + " payload_seq=" + std::to_string(snapshot.seq) +
          " epoch=" + std::to_string(info.epoch));
    }
    // Within one attachment (one publisher incarnation) sequences only grow.
    if (info.epoch == last_epoch && info.seq <= last_seq) {
      say("REGRESS seq=" + std::to_string(info.seq) + " after=" + std::to_string(last_seq) +
          " epoch=" + std::to_string(info.epoch));
    }
    last_seq = info.seq;
    last_epoch = info.epoch;
    ++delivered;
    changed = true;
  };
  if (subscriber->has_value()) {
    check(subscriber->latest(), subscriber->info());
  }
  subscriber->on_update(check);
  std::uint64_t epoch_before_loss = 0;
  subscriber->on_status([&](shmsnap::StatusEvent event, const shmsnap::UpdateInfo& info) {
    if (event == shmsnap::StatusEvent::publisher_lost) {
      // The next delivery comes from a new incarnation (attach() delivers before
      // it reports `reattached`), which restarts its sequence.
      epoch_before_loss = last_epoch;
      last_seq = 0;
      last_epoch = 0;
    } else if (info.epoch <= epoch_before_loss) {
      // A cleanly shut down topic is unlinked, so its successor starts at epoch 1
      // again: (epoch, seq) does not order incarnations. Reported, not a failure.
      say("EPOCH_REUSE epoch=" + std::to_string(info.epoch) + " before=" + std::to_string(epoch_before_loss));
    }
    changed = true;
  });
  auto last_report = Clock::now() - std::chrono::seconds(1);
  while (stop_requested == 0) {
    subscriber->wait(std::chrono::milliseconds(20));
    // Throttled: at a high publish rate one line per delivery would swamp the driver.
    if (changed && Clock::now() - last_report >= std::chrono::milliseconds(20)) {
      changed = false;
      last_report = Clock::now();
      say("STATE pid=" + std::to_string(subscriber->core().publisher_pid()) +
          " epoch=" + std::to_string(subscriber->info().epoch) + " seq=" + std::to_string(subscriber->info().seq) +
          " stale=" + std::to_string(subscriber->stale() ? 1 : 0) + " delivered=" + std::to_string(delivered) +
          " retries=" + std::to_string(subscriber->stats().retries));
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  signal(SIGUSR1, on_usr1);
  signal(SIGUSR2, on_usr2);
  return run_peer(argc, argv, "shmsnap-chaos-peer", run_publisher, run_subscriber);
}
