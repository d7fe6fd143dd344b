// The untyped subscriber's engine: composes its parts and passes each what it
// needs. The Attachment (attachment.hpp, through an AttachPath) owns what was
// mapped, checked and registered; Liveness (liveness.hpp) the publisher's death
// watch, heartbeat, staleness and re-attach timing; the Waiter (waiter.hpp) the
// epoll set, the timer and the wait strategies; the SnapshotReader
// (snapshot_reader.hpp) the local copy, UpdateInfo and SubscriberStats. The engine
// owns only the subscriber's identity, its options and the handlers' calls. A
// subscriber is used by one thread at a time, so none of it is synchronised.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "shmsnap/names.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/subscriber.hpp"
#include "subscriber/attachment.hpp"
#include "subscriber/liveness.hpp"
#include "subscriber/snapshot_reader.hpp"
#include "subscriber/waiter.hpp"

namespace shmsnap {

// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions): its parts delete copying
struct UntypedSubscriber::State {
 public:
  /// Attaches through the named path and copies the current snapshot. Throws Error.
  State(UntypedSubscriber& core, std::string_view topic, const SchemaInfo* reader_schema,
        const SubscriberOptions& opts);
  /// BYE, then the notify queue is closed and unlinked.
  ~State();

  /// UntypedSubscriber::wait: the strategy of options.mode.
  bool wait(std::chrono::nanoseconds timeout) noexcept;
  /// Handles whatever woke fd() (or nothing) without blocking.
  bool process(std::int64_t deadline) noexcept;

  // What the Waiter's strategies call back (waiter.hpp).
  [[nodiscard]] bool stale() const noexcept { return liveness_.stale(); }
  [[nodiscard]] bool watches_death() const noexcept { return liveness_.death_watch_fd() >= 0; }
  [[nodiscard]] bool has_news() const noexcept { return reader_.has_news(*attachment_.region()); }
  bool deliver_newest(std::int64_t deadline_ns) noexcept;
  detail::Drained drain_notifications() noexcept;
  bool after_wakeup(detail::Drained drained, std::int64_t deadline) noexcept;
  // A status event was reported and options.wait_returns_on_status asks wait() to end there.
  [[nodiscard]] bool status_ends_wait() const noexcept { return status_reported_ && options_.wait_returns_on_status; }

  // The public accessors' sources (subscriber.hpp).
  [[nodiscard]] int fd() const noexcept { return waiter_.fd(); }
  [[nodiscard]] const detail::SnapshotReader& reader() const noexcept { return reader_; }
  [[nodiscard]] bool stale_or_stalled() const noexcept { return liveness_.stale() || liveness_.stalled(); }
  [[nodiscard]] const std::string& id() const noexcept { return id_; }
  [[nodiscard]] const std::string& topic() const noexcept { return names_.topic; }
  [[nodiscard]] const detail::Attachment& attachment() const noexcept { return attachment_; }
  void count_retries(std::uint64_t retries) noexcept { reader_.count_retries(retries); }

 private:
  void attach(std::int64_t deadline);  // throws
  void detach(bool send_bye) noexcept;
  void go_stale(const char* why) noexcept;
  bool try_reattach(std::int64_t deadline) noexcept;
  void watch_heartbeat() noexcept;
  void report(StatusEvent event) noexcept;

  UntypedSubscriber& owner_;
  TopicNames names_;
  SubscriberOptions options_;
  std::string id_;
  // The parts, in the order they are made: a bad option is refused before any
  // descriptor is opened.
  detail::Attachment attachment_;
  detail::Waiter waiter_;
  detail::Liveness liveness_;
  detail::SnapshotReader reader_;
  bool status_reported_ = false;  // by report(), since the current wait() began
};

}  // namespace shmsnap
