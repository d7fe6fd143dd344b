// After a wake-up: take the notification, then copy the newest snapshot out of the
// region under its seqlock (bounded by the caller's deadline) and hand it to the
// caller's callback.

#include <unistd.h>

#include <array>
#include <thread>

#include "shmsnap/clock.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "subscriber/subscriber_state.hpp"
#include "system/log.hpp"

namespace shmsnap {
namespace {

using detail::log;

}  // namespace

UntypedSubscriber::State::Drained UntypedSubscriber::State::handle_message(std::span<const std::byte> bytes) noexcept {
  ++stats.wakeups;
  const Parsed<NotifyMessage> parsed = parse_notify(bytes);
  const std::optional<NotifyMessage>& message = parsed.message;
  if (!message) {
    log().warn("subscriber '{}': ignored a malformed notification ({})", id, parsed.problem);
    return Drained::message;
  }
  if (message->kind == NotifyKind::shutdown) {
    // Believed only with evidence (the region's state or the publisher's exit):
    // anyone in the topic's group may write to our queue.
    return Drained::shutdown;
  }
  if (message->kind == NotifyKind::epoch) {
    reattach_now = true;
  }
  return Drained::message;
}

UntypedSubscriber::State::Drained UntypedSubscriber::State::drain_notifications() noexcept {
  // The queue holds at most one message (depth 1), so one receive drains it; a
  // message arriving right after will make the descriptor readable again.
  std::array<std::byte, sizeof(NotifyMessage)> buffer{};
  const Received received = notify.receive(buffer);
  if (received.status != QueueStatus::ok) {
    return Drained::nothing;
  }
  return handle_message(std::span(buffer.data(), received.size));
}

bool UntypedSubscriber::State::deliver_newest(std::int64_t deadline_ns) noexcept {
  if (!region || region->latest_seq() == last_seq) {
    return false;
  }
  SnapshotMeta meta;
  // At least one round, however short the deadline (poll() passes "now").
  for (unsigned round = 0;; ++round) {
    const ReadStatus status = region->try_read(local, meta, stats.retries);
    if (status == ReadStatus::ok) {
      break;
    }
    if (status == ReadStatus::empty) {
      return false;
    }
    if (status == ReadStatus::corrupt) {
      go_stale("published an index outside its region");
      return false;
    }
    if (status == ReadStatus::inconsistent) {
      // Someone with write access rewrote a slot header: never adopt it. The next
      // publish, into another slot, is read as usual.
      if (stats.inconsistent++ == 0) {
        log().warn(
            "subscriber '{}' on topic '{}': refused a slot whose header disagrees with the published word "
            "(the region was written by someone other than its publisher); counted in stats().inconsistent",
            id, names.topic);
      }
      return false;
    }
    // Lapped on every attempt: keep going while the writer lives; a writer that
    // died mid-write never finishes, so stop there.
    if (round % 16 == 15 && !region->publisher_alive()) {
      go_stale("died while writing");
      return false;
    }
    if (monotonic_ns() >= deadline_ns) {
      // The caller's deadline holds even against a writer that laps every read;
      // the newest snapshot stays pending (latest_seq != last_seq) for the next call.
      ++stats.contended;
      return false;
    }
    std::this_thread::yield();
  }
  if (meta.seq <= last_seq) {
    return false;  // a wake-up for a snapshot we already hold
  }
  info.skipped = last_seq == 0 ? 0 : meta.seq - last_seq - 1;
  stats.skipped += info.skipped;
  last_seq = meta.seq;
  info.seq = meta.seq;
  info.publish_ts_ns = meta.publish_ts_ns;
  info.receive_ts_ns = monotonic_ns();
  info.epoch = attached_epoch;
  info.stale = stalled;
  has_value = true;
  ++stats.delivered;
  if (owner.update_handler_) {
    owner.update_handler_(info);
  }
  return true;
}

bool UntypedSubscriber::State::after_wakeup(Drained drained, std::int64_t deadline) noexcept {
  if (!stale) {
    if (drained != Drained::message) {
      // Maybe the heartbeat timer: clear it (a wake-up with a message skips the syscall).
      std::uint64_t expirations = 0;
      [[maybe_unused]] const ssize_t drained_timer = ::read(timer_fd, &expirations, sizeof expirations);
    }
    watch_heartbeat();
    // Nothing in the queue means the wake-up came from the pidfd (or the caller
    // polled): only then is the publisher's liveness worth a syscall. A dead
    // publisher's pidfd stays readable, so a wake-up with a message is not lost.
    const bool closed = region->closed();
    if (closed || (drained != Drained::message && publisher_gone())) {
      // A final snapshot may have been published just before the end.
      const bool delivered = deliver_newest(deadline);
      go_stale(closed ? "shut down" : "exited");  // a no-op if the read already went stale
      return delivered;
    }
    return deliver_newest(deadline);
  }
  std::uint64_t expirations = 0;
  [[maybe_unused]] const ssize_t drained_timer = ::read(timer_fd, &expirations, sizeof expirations);
  return try_reattach(deadline);
}

bool UntypedSubscriber::State::process(std::int64_t deadline) noexcept {
  return after_wakeup(drain_notifications(), deadline);
}

}  // namespace shmsnap
