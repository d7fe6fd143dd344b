// The soak roles of shmsnap-test-peer (see peer_roles.hpp): the publisher and
// subscriber processes the chaos driver (tests/chaos) kills, stops and restarts.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "support/delivery_check.hpp"
#include "support/peer_roles.hpp"
#include "support/peer_setup.hpp"
#include "support/peer_signals.hpp"

namespace shmsnap::test {

using Clock = std::chrono::steady_clock;

int run_soak_publisher(const PeerArguments& args) {
  auto publisher = create_announced_publisher(args, 2);

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
    if (usr1_received != 0) {
      usr1_received = 0;
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
    if (usr2_received != 0 && publishing) {
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
  close_announced_publisher(publisher);
  return 0;
}

int run_soak_subscriber(const PeerArguments& args) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(args.number("timeout-ms", 600'000));

  // Under chaos any attach may fail (no publisher yet, one dying mid-attach, an
  // epoch change): report it and try again until the deadline.
  std::optional<Subscriber<TestSnapshot>> subscriber =
      open_subscriber(args, subscriber_options(args), std::chrono::milliseconds(20), [&](const Error& failure) {
        if (failure.code() != Errc::not_found) {
          say("ATTACH_ERROR code=" + std::string(to_string(failure.code())) + " message=" + failure.what());
        }
        if (Clock::now() >= deadline) {
          return AfterFailedOpen::rethrow;
        }
        return stop_requested != 0 ? AfterFailedOpen::give_up : AfterFailedOpen::retry;
      });
  if (!subscriber) {
    return 0;
  }

  DeliveryCheck deliveries(0);
  bool changed = true;
  const auto check = [&](const TestSnapshot& snapshot, const UpdateInfo& info) {
    const DeliveryVerdict verdict = deliveries.check(snapshot, info);
    if (verdict.torn) {
      say("TORN seq=" + std::to_string(info.seq) + " payload_seq=" + std::to_string(snapshot.seq) +
          " epoch=" + std::to_string(info.epoch));
    }
    if (verdict.regressed) {
      say("REGRESS seq=" + std::to_string(info.seq) + " after=" + std::to_string(verdict.previous_seq) +
          " epoch=" + std::to_string(info.epoch));
    }
    changed = true;
  };
  if (subscriber->has_value()) {
    check(subscriber->latest(), subscriber->info());
  }
  subscriber->on_update(check);
  std::uint64_t epoch_before_loss = 0;
  subscriber->on_status([&](StatusEvent event, const UpdateInfo& info) {
    if (event == StatusEvent::publisher_lost) {
      // The next delivery comes from a new incarnation (attach() delivers before
      // it reports `reattached`), which restarts its sequence.
      epoch_before_loss = deliveries.last_epoch();
      deliveries.forget_incarnation();
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
          " stale=" + std::to_string(subscriber->stale() ? 1 : 0) + " delivered=" +
          std::to_string(deliveries.delivered()) + " retries=" + std::to_string(subscriber->stats().retries));
    }
  }
  return 0;
}

}  // namespace shmsnap::test
