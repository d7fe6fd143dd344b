// The engine (subscriber_engine.hpp): attaching and detaching across the parts,
// what a wake-up leads to (a read, a stall, a loss, a re-attach), and the calls of
// the caller's handlers.
#include "subscriber/subscriber_engine.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "subscriber/named_attach.hpp"
#include "subscriber/socket_attach.hpp"
#include "system/log.hpp"

namespace shmsnap {
namespace {

using detail::log;

std::string next_auto_id() {
  static std::atomic<unsigned> counter{0};
  return "sub-" + std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

// Checked before any part is made, so a bad id opens nothing.
std::string checked_id(const SubscriberOptions& options) {
  std::string id = options.id.empty() ? next_auto_id() : options.id;
  validate_name("subscriber id", id, max_subscriber_id_length);
  return id;
}

// The one place that picks how a subscriber reaches its publisher.
std::unique_ptr<detail::AttachPath> make_attach_path(const TopicNames& names, const std::string& id,
                                                     const SubscriberOptions& options) {
  if (!options.socket_dir.empty()) {
    return std::make_unique<detail::SocketAttach>(options.socket_dir, names.topic, id, options);
  }
  return std::make_unique<detail::NamedAttach>(names, id, options);
}

}  // namespace

UntypedSubscriber::State::State(UntypedSubscriber& core, std::string_view topic, const SchemaInfo* reader_schema,
                                const SubscriberOptions& opts)
    : owner_(core),
      names_(opts.prefix, topic),
      options_(opts),
      id_(checked_id(opts)),
      attachment_(make_attach_path(names_, id_, options_), reader_schema, names_.topic),
      waiter_(id_),
      liveness_(id_, names_.topic, options_.stall_timeout, options_.reattach_interval),
      reader_(reader_schema, id_, names_.topic) {
  try {
    attach(monotonic_deadline(options_.attach_timeout));
  } catch (...) {
    detach(false);
    attachment_.release();
    throw;
  }
  // A late joiner starts with the current state, before any new publish (bounded
  // like the attach itself, against a writer that laps every read).
  deliver_newest(monotonic_deadline(options_.attach_timeout));
}

UntypedSubscriber::State::~State() {
  detach(true);
  attachment_.release();
}

bool UntypedSubscriber::State::wait(std::chrono::nanoseconds timeout) noexcept {
  const std::int64_t deadline = monotonic_deadline(timeout);
  status_reported_ = false;
  switch (options_.mode) {
    case WaitMode::notify:
      return waiter_.wait_blocking(*this, deadline);
    case WaitMode::spin:
      return waiter_.wait_spinning(*this, deadline, true);
    case WaitMode::hybrid: {
      const std::int64_t spin_deadline =
          std::min(deadline, monotonic_ns() + std::chrono::nanoseconds(options_.hybrid_spin).count());
      if (waiter_.wait_spinning(*this, spin_deadline, false)) {
        return true;
      }
      if (status_ends_wait()) {
        return false;
      }
      return waiter_.wait_blocking(*this, deadline);
    }
  }
  return false;
}

void UntypedSubscriber::State::attach(std::int64_t deadline) {
  // Nothing of the parts changes until the attachment succeeded.
  const int death_watch = attachment_.attach(deadline);
  liveness_.followed(death_watch);
  reader_.attached(attachment_.region()->payload_size(), attachment_.epoch());
  waiter_.watch(attachment_.notify().native_handle(), liveness_.death_watch_fd());
  waiter_.arm_timer(liveness_.heartbeat_watch_period());
  watch_heartbeat();  // a late joiner of a stalled or source-lost topic starts stale
}

void UntypedSubscriber::State::detach(bool send_bye) noexcept {
  waiter_.unwatch(liveness_.death_watch_fd());
  liveness_.drop_death_watch();
  attachment_.detach(send_bye);
}

void UntypedSubscriber::State::report(StatusEvent event) noexcept {
  status_reported_ = true;
  if (owner_.status_handler_) {
    owner_.status_handler_(event, reader_.info());
  }
}

void UntypedSubscriber::State::go_stale(const char* why) noexcept {
  if (!liveness_.lose(attachment_.publisher_pid(), why, reader_.last_seq())) {
    return;
  }
  detach(false);
  reader_.mark_stale(true);
  waiter_.arm_timer(liveness_.reattach_interval());
  report(StatusEvent::publisher_lost);
}

void UntypedSubscriber::State::watch_heartbeat() noexcept {
  if (const std::optional<StatusEvent> event = liveness_.watch_heartbeat(*attachment_.region(), reader_.last_seq())) {
    reader_.mark_stale(liveness_.stalled());
    report(*event);
  }
}

bool UntypedSubscriber::State::try_reattach(std::int64_t deadline) noexcept {
  const std::int64_t now = monotonic_ns();
  if (!liveness_.reattach_due(now) || !attachment_.successor_ready()) {
    return false;
  }
  const std::uint64_t previous_epoch = attachment_.epoch();
  try {
    // A re-attach happens inside wait()/poll(): it may not outlast the caller's
    // deadline by more than a short exchange with the new publisher.
    attach(std::min(monotonic_deadline(options_.attach_timeout), detail::Liveness::reattach_deadline(deadline, now)));
  } catch (const Error& failure) {
    log().debug("subscriber '{}': re-attach to topic '{}' failed: {}", id_, names_.topic, failure.what());
    detach(false);
    return false;
  }
  reader_.count_reattach();
  log().info("subscriber '{}': re-attached to topic '{}' (epoch {} -> {})", id_, names_.topic, previous_epoch,
             attachment_.epoch());
  // Reported before the new epoch's first snapshot, so the caller can reset first.
  report(StatusEvent::reattached);
  return deliver_newest(deadline);
}

bool UntypedSubscriber::State::deliver_newest(std::int64_t deadline_ns) noexcept {
  const RegionReader* region = attachment_.region();
  if (region == nullptr) {
    return false;
  }
  switch (reader_.read_newest(*region, deadline_ns, attachment_.epoch(), liveness_.stalled())) {
    case detail::SnapshotReader::Outcome::delivered:
      if (owner_.update_handler_) {
        owner_.update_handler_(reader_.info());
      }
      return true;
    case detail::SnapshotReader::Outcome::corrupt:
      go_stale("published an index outside its region");
      return false;
    case detail::SnapshotReader::Outcome::writer_died:
      go_stale("died while writing");
      return false;
    case detail::SnapshotReader::Outcome::nothing:
      return false;
  }
  return false;
}

detail::Drained UntypedSubscriber::State::drain_notifications() noexcept {
  const detail::Drained drained = waiter_.drain(attachment_.notify());
  if (drained == detail::Drained::nothing) {
    return drained;
  }
  reader_.count_wakeup();
  if (drained == detail::Drained::epoch) {
    liveness_.reattach_soon();
    return detail::Drained::message;  // from here on, a message like an UPDATE
  }
  return drained;
}

bool UntypedSubscriber::State::after_wakeup(detail::Drained drained, std::int64_t deadline) noexcept {
  if (!liveness_.stale()) {
    if (drained != detail::Drained::message) {
      // Maybe the heartbeat timer: clear it (a wake-up with a message skips the syscall).
      waiter_.clear_timer();
    }
    watch_heartbeat();
    // Nothing in the queue means the wake-up came from the pidfd (or the caller
    // polled): only then is the publisher's liveness worth a syscall. A dead
    // publisher's pidfd stays readable, so a wake-up with a message is not lost.
    const bool closed = attachment_.region()->closed();
    if (closed || (drained != detail::Drained::message && liveness_.publisher_gone(*attachment_.region()))) {
      // A final snapshot may have been published just before the end.
      const bool delivered = deliver_newest(deadline);
      go_stale(closed ? "shut down" : "exited");  // a no-op if the read already went stale
      return delivered;
    }
    return deliver_newest(deadline);
  }
  waiter_.clear_timer();
  return try_reattach(deadline);
}

bool UntypedSubscriber::State::process(std::int64_t deadline) noexcept {
  return after_wakeup(drain_notifications(), deadline);
}

}  // namespace shmsnap
