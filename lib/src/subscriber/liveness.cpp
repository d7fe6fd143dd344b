// Following the publisher's liveness: its exit or shutdown (the state goes stale),
// its heartbeat (stalled and resumed), and re-attaching to a successor (new epoch).

#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "shmsnap/clock.hpp"
#include "subscriber/subscriber_state.hpp"
#include "system/log.hpp"
#include "system/process.hpp"

namespace shmsnap {
namespace {

using detail::log;

// A re-attach inside wait()/poll() may take at least this long, whatever the
// caller's deadline: the HELLO/WELCOME exchange with the new publisher.
constexpr std::int64_t min_reattach_budget_ns = 100'000'000;
// At most one stall/resume line per this interval per subscriber (watch_heartbeat).
constexpr std::int64_t flap_log_interval_ns = 10'000'000'000;

}  // namespace

void UntypedSubscriber::State::report(StatusEvent event) noexcept {
  status_reported = true;
  if (owner.status_handler_) {
    owner.status_handler_(event, info);
  }
}

void UntypedSubscriber::State::go_stale(const char* why) noexcept {
  if (stale) {
    return;
  }
  log().info("subscriber '{}' on topic '{}': publisher pid {} {}; keeping the last state (seq {}) as stale", id,
             names.topic, region ? region->publisher_pid() : 0, why, last_seq);
  detach(false);
  stale = true;
  stalled = false;
  info.stale = true;
  next_reattach_ns = 0;
  arm_timer(options.reattach_interval);
  report(StatusEvent::publisher_lost);
}

bool UntypedSubscriber::State::try_reattach(std::int64_t deadline) noexcept {
  const std::int64_t now = monotonic_ns();
  if (!reattach_now && now < next_reattach_ns) {
    return false;
  }
  reattach_now = false;
  next_reattach_ns = now + std::chrono::nanoseconds(options.reattach_interval).count();
  try {
    // Cheap look first: the same dead region, or none at all, is the common case.
    RegionReader candidate = RegionReader::open(names.region(), TrustedOwners{.also = options.trusted_owners});
    if ((candidate.inode() == attached_inode && candidate.epoch() == attached_epoch) || candidate.closed() ||
        !candidate.publisher_alive()) {
      return false;
    }
  } catch (const Error& failure) {
    // A region another user created under the name (owner not trusted, or a mode
    // that lets others write it) is not our publisher: keep waiting for the real
    // one, and say once who is in the way.
    if (failure.code() == Errc::permission_denied && reattach_problem != failure.what()) {
      reattach_problem = failure.what();
      log().warn("subscriber '{}' on topic '{}': still waiting for a publisher: {}", id, names.topic, reattach_problem);
    }
    return false;
  }
  reattach_problem.clear();
  const std::uint64_t previous_epoch = attached_epoch;
  if (MessageQueue::inode_of(names.notify_queue(id)) != notify.inode()) {
    // Someone removed (or replaced) our queue while we were away: make a new one.
    log().warn("subscriber '{}': its queue {} was removed or replaced; creating it again", id, names.notify_queue(id));
    notify.close();
  }
  try {
    // A re-attach happens inside wait()/poll(): it may not outlast the caller's
    // deadline by more than a short exchange with the new publisher.
    attach(std::min(monotonic_deadline(options.attach_timeout), std::max(deadline, now + min_reattach_budget_ns)));
  } catch (const Error& failure) {
    log().debug("subscriber '{}': re-attach to topic '{}' failed: {}", id, names.topic, failure.what());
    detach(false);
    return false;
  }
  ++stats.reattached;
  log().info("subscriber '{}': re-attached to topic '{}' (epoch {} -> {})", id, names.topic, previous_epoch,
             attached_epoch);
  // Reported before the new epoch's first snapshot, so the caller can reset first.
  report(StatusEvent::reattached);
  return deliver_newest(deadline);
}

bool UntypedSubscriber::State::publisher_gone() const noexcept {
  return pidfd >= 0 ? detail::pidfd_exited(pidfd) : !region->publisher_alive();
}

void UntypedSubscriber::State::watch_heartbeat() noexcept {
  // Absent when the heartbeat lies ahead of now or is not positive: only someone
  // else writes such a value, and a publisher that cannot show it beats is not
  // known to be alive (a negative age once hid a stopped one).
  const std::optional<std::int64_t> age_ns = region->heartbeat_age_ns();
  const bool silent = !age_ns || *age_ns > std::chrono::nanoseconds(options.stall_timeout).count();
  const bool source_lost = region->source_lost();
  const bool frozen = silent || source_lost;
  if (frozen == stalled) {
    return;
  }
  stalled = frozen;
  info.stale = frozen;
  report(frozen ? StatusEvent::publisher_stalled : StatusEvent::publisher_resumed);
  // A publisher hovering around stall_timeout changes state on every beat or two:
  // the first change is logged, then at most one line per flap_log_interval that
  // counts the changes in between (the status handler still sees every one).
  const std::int64_t now = monotonic_ns();
  if (last_flap_log_ns != 0 && now - last_flap_log_ns < flap_log_interval_ns) {
    ++flaps_unlogged;
    return;
  }
  const std::uint64_t unlogged = std::exchange(flaps_unlogged, 0);
  last_flap_log_ns = now;
  const std::string between =
      unlogged == 0 ? std::string()
                    : fmt::format(
                          " (after {} more stall/resume changes not logged in the last {:.0f} s: its heartbeat "
                          "hovers around stall_timeout)",
                          unlogged, static_cast<double>(flap_log_interval_ns) / 1e9);
  if (source_lost) {
    log().warn(
        "subscriber '{}' on topic '{}': publisher pid {} republishes a source that is gone; the state (seq {}) "
        "is stale until it publishes again{}",
        id, names.topic, region->publisher_pid(), last_seq, between);
  } else if (frozen && age_ns) {
    log().warn(
        "subscriber '{}' on topic '{}': publisher pid {} has not beaten for {:.1f} s (stopped or hung); "
        "the state (seq {}) is stale until it moves again{}",
        id, names.topic, region->publisher_pid(), static_cast<double>(*age_ns) / 1e9, last_seq, between);
  } else if (frozen) {
    log().warn(
        "subscriber '{}' on topic '{}': publisher pid {} shows a heartbeat that is not a time of this host "
        "(ahead of now, or not positive: rewritten by a writer of the region?); the state (seq {}) is stale "
        "until it beats again{}",
        id, names.topic, region->publisher_pid(), last_seq, between);
  } else {
    log().info("subscriber '{}' on topic '{}': publisher pid {} is fresh again{}", id, names.topic,
               region->publisher_pid(), between);
  }
}

}  // namespace shmsnap
