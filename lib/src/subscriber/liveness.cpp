// Following the publisher's liveness (liveness.hpp): its exit (the pidfd), its
// heartbeat (stalled and resumed), and when to look for a successor (new epoch).
#include "subscriber/liveness.hpp"

#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>

#include "shmsnap/clock.hpp"
#include "system/log.hpp"
#include "system/process.hpp"

namespace shmsnap::detail {
namespace {

// A re-attach inside wait()/poll() may take at least this long, whatever the
// caller's deadline: the HELLO/WELCOME exchange with the new publisher.
constexpr std::int64_t min_reattach_budget_ns = 100'000'000;
// At most one stall/resume line per this interval per subscriber (watch_heartbeat).
constexpr std::int64_t flap_log_interval_ns = 10'000'000'000;

}  // namespace

Liveness::Liveness(std::string id, std::string topic, std::chrono::milliseconds stall_timeout,
                   std::chrono::milliseconds reattach_interval) noexcept
    : id_(std::move(id)),
      topic_(std::move(topic)),
      stall_timeout_(stall_timeout),
      reattach_interval_(reattach_interval) {}

Liveness::~Liveness() {
  drop_death_watch();
}

void Liveness::followed(int death_watch) noexcept {
  drop_death_watch();
  pidfd_ = death_watch;
  stale_ = false;
  stalled_ = false;
}

void Liveness::drop_death_watch() noexcept {
  if (pidfd_ >= 0) {
    ::close(pidfd_);
    pidfd_ = -1;
  }
}

bool Liveness::lose(pid_t publisher, const char* why, std::uint64_t last_seq) noexcept {
  if (stale_) {
    return false;
  }
  log().info("subscriber '{}' on topic '{}': publisher pid {} {}; keeping the last state (seq {}) as stale", id_,
             topic_, publisher, why, last_seq);
  stale_ = true;
  stalled_ = false;
  next_reattach_ns_ = 0;
  return true;
}

bool Liveness::publisher_gone(const RegionReader& region) const noexcept {
  return pidfd_ >= 0 ? pidfd_exited(pidfd_) : !region.publisher_alive();
}

std::chrono::nanoseconds Liveness::heartbeat_watch_period() const noexcept {
  return std::max<std::chrono::nanoseconds>(std::chrono::milliseconds(1), stall_timeout_ / 4);
}

bool Liveness::reattach_due(std::int64_t now_ns) noexcept {
  if (!reattach_now_ && now_ns < next_reattach_ns_) {
    return false;
  }
  reattach_now_ = false;
  next_reattach_ns_ = now_ns + reattach_interval_.count();
  return true;
}

std::int64_t Liveness::reattach_deadline(std::int64_t deadline_ns, std::int64_t now_ns) noexcept {
  return std::max(deadline_ns, now_ns + min_reattach_budget_ns);
}

std::optional<StatusEvent> Liveness::watch_heartbeat(const RegionReader& region, std::uint64_t last_seq) noexcept {
  // Absent when the heartbeat lies ahead of now or is not positive: only someone
  // else writes such a value, and a publisher that cannot show it beats is not
  // known to be alive (a negative age once hid a stopped one).
  const std::optional<std::int64_t> age_ns = region.heartbeat_age_ns();
  const bool silent = !age_ns || *age_ns > stall_timeout_.count();
  const bool source_lost = region.source_lost();
  const bool frozen = silent || source_lost;
  if (frozen == stalled_) {
    return std::nullopt;
  }
  stalled_ = frozen;
  const StatusEvent event = frozen ? StatusEvent::publisher_stalled : StatusEvent::publisher_resumed;
  // A publisher hovering around stall_timeout changes state on every beat or two:
  // the first change is logged, then at most one line per flap_log_interval that
  // counts the changes in between (the status handler still sees every one).
  const std::int64_t now = monotonic_ns();
  if (last_flap_log_ns_ != 0 && now - last_flap_log_ns_ < flap_log_interval_ns) {
    ++flaps_unlogged_;
    return event;
  }
  const std::uint64_t unlogged = std::exchange(flaps_unlogged_, 0);
  last_flap_log_ns_ = now;
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
        id_, topic_, region.publisher_pid(), last_seq, between);
  } else if (frozen && age_ns) {
    log().warn(
        "subscriber '{}' on topic '{}': publisher pid {} has not beaten for {:.1f} s (stopped or hung); "
        "the state (seq {}) is stale until it moves again{}",
        id_, topic_, region.publisher_pid(), static_cast<double>(*age_ns) / 1e9, last_seq, between);
  } else if (frozen) {
    log().warn(
        "subscriber '{}' on topic '{}': publisher pid {} shows a heartbeat that is not a time of this host "
        "(ahead of now, or not positive: rewritten by a writer of the region?); the state (seq {}) is stale "
        "until it beats again{}",
        id_, topic_, region.publisher_pid(), last_seq, between);
  } else {
    log().info("subscriber '{}' on topic '{}': publisher pid {} is fresh again{}", id_, topic_, region.publisher_pid(),
               between);
  }
  return event;
}

}  // namespace shmsnap::detail
