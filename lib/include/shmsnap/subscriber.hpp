// Subscriber<T>: follows one topic. open() maps the region read-only, validates
// it and the schema, creates this subscriber's notify queue, registers with the
// publisher and copies the current snapshot at once. wait()/poll() deliver the
// newest snapshot; a publisher that dies or shuts down leaves the last state in
// place, marked stale, and the subscriber re-attaches to its successor by itself.
// A Subscriber is used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shmsnap/region.hpp"
#include "shmsnap/schema.hpp"

namespace shmsnap {

/// How wait() waits for the next snapshot.
enum class WaitMode {
  notify,  ///< block on the notify queue (and the publisher's pidfd)
  spin,    ///< poll the published sequence: lowest latency, burns a core
  hybrid,  ///< spin for `hybrid_spin`, then block
};

/// Options for Subscriber<T>::open; fill with designated initializers.
struct SubscriberOptions {
  std::string prefix;  ///< namespace; "" = $SHMSNAP_PREFIX or "shmsnap"
  std::string id;      ///< unique per topic; "" = "sub-<pid>-<n>"
  WaitMode mode = WaitMode::notify;
  std::chrono::microseconds hybrid_spin{50};
  /// The notify queue: we read, the publisher (maybe another user) writes through the
  /// group bit. Read bits for others and other-write are refused (invalid_argument).
  mode_t queue_mode = 0620;
  std::chrono::milliseconds attach_timeout{2000};   ///< bound on the HELLO/WELCOME exchange
  std::chrono::milliseconds reattach_interval{50};  ///< how often a stale subscriber looks for a publisher
  /// A publisher whose heartbeat (written every PublisherOptions::heartbeat_interval,
  /// 100 ms by default) is older than this is stalled (SIGSTOP, a hung process): the
  /// state is marked stale until the heartbeat moves again. Keep it well above the
  /// publisher's heartbeat interval.
  std::chrono::milliseconds stall_timeout{2000};
  /// Users besides this process's own and root whose regions it follows (whoever
  /// creates a name first owns it: see TrustedOwners in region.hpp).
  std::vector<uid_t> trusted_owners;
  /// wait() returns false (nothing delivered) right after it reported a status event
  /// instead of waiting on to its deadline, for a caller that handles the events
  /// after wait() returns rather than in the handler (the Python binding).
  bool wait_returns_on_status = false;
  /// Socket mode (docs/CONTAINERS.md): attach through the publisher's socket
  /// <socket_dir>/<topic>.sock (a directory shared with its container) instead of the
  /// topic's names; the region arrives as a sealed descriptor. trusted_owners then
  /// applies to the publisher's credentials on the socket. "": named mode.
  std::string socket_dir;
};

/// What came with a delivered snapshot.
struct UpdateInfo {
  std::uint64_t seq = 0;           ///< publish sequence (restarts with each epoch)
  std::int64_t publish_ts_ns = 0;  ///< CLOCK_MONOTONIC at publish
  std::int64_t receive_ts_ns = 0;  ///< CLOCK_MONOTONIC once copied out
  std::uint64_t skipped = 0;       ///< publishes since the previous delivery that were never seen
  std::uint64_t epoch = 0;         ///< publisher incarnation
  bool stale = false;              ///< the publisher is gone; this is the last good state
  std::uint64_t used_bytes = 0;    ///< how much of the snapshot the publish wrote; past it the local copy is zeros
};

/// A change of attachment, reported to on_status.
enum class StatusEvent {
  publisher_lost,     ///< publisher exited, died mid-write, or shut down: state is stale
  reattached,         ///< a publisher (new epoch) is followed again
  publisher_stalled,  ///< its heartbeat is older than stall_timeout (stopped, hung): state is stale
  publisher_resumed,  ///< its heartbeat moves again: state is fresh
};

/// Counters of one subscriber since open().
struct SubscriberStats {
  std::uint64_t delivered = 0;     ///< snapshots handed to the caller
  std::uint64_t wakeups = 0;       ///< notifications dequeued
  std::uint64_t skipped = 0;       ///< publishes never seen (latest-value semantics)
  std::uint64_t retries = 0;       ///< seqlock read retries (the writer lapped a read)
  std::uint64_t reattached = 0;    ///< successful re-attaches after a publisher loss
  std::uint64_t contended = 0;     ///< waits that hit their deadline with the writer lapping every read
  std::uint64_t inconsistent = 0;  ///< slots refused: their header disagreed with the published word
};

/// The untyped subscriber behind Subscriber<T>; tools use it with schema == nullptr
/// to follow any topic as bytes plus the region's descriptor.
class UntypedSubscriber {
 public:
  using UpdateHandler = std::function<void(const UpdateInfo&)>;
  using StatusHandler = std::function<void(StatusEvent, const UpdateInfo&)>;

  /// Attaches. `schema` == nullptr accepts any schema (the local state then has the
  /// region's payload size). Throws Error: not_found, schema_mismatch, busy (id in
  /// use, naming the pid), limit_exceeded (table full), timed_out, ...
  UntypedSubscriber(std::string_view topic, const SchemaInfo* schema, const SubscriberOptions& options);
  /// BYE, then its notify queue is closed and unlinked.
  ~UntypedSubscriber();
  UntypedSubscriber(const UntypedSubscriber&) = delete;
  UntypedSubscriber& operator=(const UntypedSubscriber&) = delete;

  void on_update(UpdateHandler handler) { update_handler_ = std::move(handler); }
  void on_status(StatusHandler handler) { status_handler_ = std::move(handler); }

  /// Waits up to `timeout` (per the wait mode) and delivers the newest snapshot.
  /// True when one was delivered.
  bool wait(std::chrono::nanoseconds timeout) noexcept;
  /// Handles whatever is pending without blocking; true when a snapshot was delivered.
  bool poll() noexcept;
  /// Readable when poll() has work: notify queue, publisher exit, re-attach timer.
  [[nodiscard]] int fd() const noexcept;

  [[nodiscard]] std::span<const std::byte> bytes() const noexcept;
  [[nodiscard]] bool has_value() const noexcept;
  [[nodiscard]] bool stale() const noexcept;
  [[nodiscard]] const UpdateInfo& info() const noexcept;
  [[nodiscard]] SubscriberStats stats() const noexcept;
  [[nodiscard]] const std::string& id() const noexcept;
  [[nodiscard]] const std::string& topic() const noexcept;
  /// The descriptor JSON of the region last attached to (for decoding bytes()).
  [[nodiscard]] const std::string& descriptor() const noexcept;
  /// The schema of the region last attached to: name, version, fingerprint, payload
  /// size and descriptor (views into this subscriber, valid until the next re-attach).
  /// A tool that republishes what it follows creates its UntypedPublisher from this.
  [[nodiscard]] const SchemaInfo& schema() const noexcept;
  [[nodiscard]] pid_t publisher_pid() const noexcept;

  /// The region followed now, or nullptr while detached (stale). Valid until the next
  /// wait()/poll(), which may re-attach to a successor.
  [[nodiscard]] const RegionReader* region() const noexcept;
  /// Zero-copy read of the newest snapshot in place: RegionReader::read_in_place, with
  /// its rules for the visitor (called possibly several times; nothing acted on and no
  /// reference kept before it returns ok). Retries count into stats().retries.
  /// ReadStatus::empty while detached. Does not touch bytes(), info() or the handlers.
  template <class Visitor>
  ReadStatus read_in_place(Visitor&& visitor, SnapshotMeta& meta, unsigned max_attempts = 64) {
    const RegionReader* reader = region();
    if (reader == nullptr)
      return ReadStatus::empty;
    std::uint64_t retries = 0;
    const ReadStatus status = reader->read_in_place(std::forward<Visitor>(visitor), meta, retries, max_attempts);
    count_retries(retries);
    return status;
  }
  /// Copies only the byte ranges `fields` of the newest snapshot into `destination`
  /// (RegionReader::read_fields). ReadStatus::empty while detached.
  ReadStatus read_fields(std::span<const FieldRange> fields, std::span<std::byte> destination, SnapshotMeta& meta,
                         unsigned max_attempts = 64) {
    const RegionReader* reader = region();
    if (reader == nullptr)
      return ReadStatus::empty;
    std::uint64_t retries = 0;
    const ReadStatus status = reader->read_fields(fields, destination, meta, retries, max_attempts);
    count_retries(retries);
    return status;
  }

 private:
  void count_retries(std::uint64_t retries) noexcept;

  struct State;
  // The handlers are declared (so constructed) before state_: attaching inside
  // the State constructor already consults them.
  UpdateHandler update_handler_;
  StatusHandler status_handler_;
  std::unique_ptr<State> state_;
  friend struct State;
};

/// The typed subscriber of a topic carrying T (or a newer, append-only version of T).
template <Snapshot T>
class Subscriber {
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "the local state is heap storage of default alignment");

 public:
  /// Attaches to `topic` (see UntypedSubscriber). Right after open() the current
  /// snapshot, if any, is in latest().
  [[nodiscard]] static Subscriber open(std::string_view topic, const SubscriberOptions& options = {}) {
    return Subscriber(std::make_unique<UntypedSubscriber>(topic, &T::shmsnap_schema, options));
  }

  /// Called from wait()/poll() for every delivered snapshot, on the caller's thread.
  void on_update(std::function<void(const T&, const UpdateInfo&)> callback) {
    // Captures the core, not `this`: a Subscriber may be moved after on_update.
    core_->on_update([core = core_.get(), callback = std::move(callback)](const UpdateInfo& info) {
      callback(*reinterpret_cast<const T*>(core->bytes().data()), info);
    });
  }
  /// Called when the publisher is lost or a successor is followed again.
  void on_status(UntypedSubscriber::StatusHandler handler) { core_->on_status(std::move(handler)); }

  /// Blocks up to `timeout` for a newer snapshot; true when one was delivered.
  bool wait(std::chrono::nanoseconds timeout) noexcept { return core_->wait(timeout); }
  /// Non-blocking: handles pending notifications; true when a snapshot was delivered.
  bool poll() noexcept { return core_->poll(); }
  /// Pollable descriptor for the caller's own epoll/select loop; call poll() when readable.
  [[nodiscard]] int fd() const noexcept { return core_->fd(); }

  /// The local state: the newest snapshot copied so far (zero before the first).
  [[nodiscard]] const T& latest() const noexcept { return *reinterpret_cast<const T*>(core_->bytes().data()); }
  [[nodiscard]] bool has_value() const noexcept { return core_->has_value(); }
  [[nodiscard]] bool stale() const noexcept { return core_->stale(); }
  [[nodiscard]] const UpdateInfo& info() const noexcept { return core_->info(); }
  [[nodiscard]] SubscriberStats stats() const noexcept { return core_->stats(); }
  [[nodiscard]] UntypedSubscriber& core() noexcept { return *core_; }

  /// Zero-copy read: calls `visitor(const T&)` on the newest snapshot where it lies in
  /// the shared mapping, validated by the seqlock after the visitor returns; for large
  /// snapshots of which the caller needs a few fields. ok: the visitor's last call saw
  /// a consistent snapshot. The rules of UntypedSubscriber::read_in_place apply: copy
  /// what you need into your own variables, overwrite them on every call, act on them
  /// only after ok, keep no reference to the T, bound-check indices read from it.
  template <class Visitor>
  ReadStatus read_in_place(Visitor&& visitor, SnapshotMeta& meta, unsigned max_attempts = 64) {
    return core_->read_in_place(
        [&visitor](std::span<const std::byte> payload) { visitor(*reinterpret_cast<const T*>(payload.data())); }, meta,
        max_attempts);
  }
  /// Copies only the byte ranges `fields` (e.g. offsetof/sizeof of members of T) of the
  /// newest snapshot into `destination`, back to back, under the seqlock.
  ReadStatus read_fields(std::span<const FieldRange> fields, std::span<std::byte> destination, SnapshotMeta& meta,
                         unsigned max_attempts = 64) {
    return core_->read_fields(fields, destination, meta, max_attempts);
  }

 private:
  explicit Subscriber(std::unique_ptr<UntypedSubscriber> core) : core_(std::move(core)) {}
  std::unique_ptr<UntypedSubscriber> core_;
};

}  // namespace shmsnap
