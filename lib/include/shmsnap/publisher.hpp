// Publisher<T>: the one writer of a topic. create() makes the region and control
// queue (taking over a dead publisher's, refusing a live one's); publish() writes
// the next slot under its seqlock and notifies every subscriber without blocking.
// publish()/loan() are called from one thread at a time; a background control
// thread registers subscribers and reclaims dead ones.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shmsnap/schema.hpp"

namespace shmsnap {

/// Where publish() sends the per-subscriber notifications.
enum class FanOut {
  caller,           ///< in publish(): lowest latency, caller cost grows with N
  notifier_thread,  ///< on a background thread: publish() stays O(1) in N
};

/// Options for Publisher<T>::create; fill with designated initializers.
struct PublisherOptions {
  std::string prefix;  ///< namespace; "" = $SHMSNAP_PREFIX or "shmsnap"
  /// Region mode; the control queue gets the matching write bits. Share by read bits
  /// only: group or other write bits are refused (Errc::invalid_argument).
  mode_t mode = 0640;
  std::uint32_t slot_count = 3;        ///< 2..255 slots; more keeps big snapshots readable under fast writers
  std::uint32_t max_subscribers = 64;  ///< table bound; HELLOs beyond it are refused
  FanOut fan_out = FanOut::caller;
  std::chrono::milliseconds heartbeat_interval{100};  ///< liveness sweep and table mirror period
  /// Socket mode (docs/CONTAINERS.md): offer the topic on the Unix socket
  /// "<topic>.sock" in this directory instead of under names, with the region a sealed memfd
  /// that subscribers receive over it and can only map read-only. Share the
  /// directory (a volume) with the subscribers' containers. "": named mode.
  std::string socket_dir;
  /// Socket mode: users admitted besides the publisher's own and root (peer
  /// credentials, as this process's user namespace maps them).
  std::vector<uid_t> allow_uids;
  /// Socket mode: primary groups admitted.
  std::vector<gid_t> allow_gids;
  /// 0 (the default): a topic of this host. A bridge importer that republishes
  /// another host's topic sets that host's id here (shmsnap-bridge's
  /// origin_id_for); exporters refuse such a topic, so a value never loops back.
  std::uint64_t origin_id = 0;
};

/// Counters of one publisher since create().
struct PublisherStats {
  std::uint64_t published = 0;
  std::uint64_t notified = 0;   ///< UPDATEs enqueued
  std::uint64_t coalesced = 0;  ///< UPDATEs folded into a pending one (full queue)
  std::uint64_t send_errors = 0;
  std::uint64_t subscribers = 0;      ///< registered now
  std::uint64_t reclaimed = 0;        ///< dead subscribers whose queue and slot were freed
  std::uint64_t rejected = 0;         ///< HELLOs refused (table full, id in use, wrong epoch)
  std::uint64_t dropped_control = 0;  ///< malformed or hostile control messages
};

/// The untyped publisher behind Publisher<T>; also usable directly by tools that
/// publish bytes described by a runtime schema.
class UntypedPublisher {
 public:
  /// Creates the topic. Throws Error (invalid_argument, busy, out_of_space, ...).
  UntypedPublisher(std::string_view topic, const SchemaInfo& schema, std::size_t payload_size,
                   const PublisherOptions& options);
  ~UntypedPublisher();
  UntypedPublisher(const UntypedPublisher&) = delete;
  UntypedPublisher& operator=(const UntypedPublisher&) = delete;

  /// Copies `size` bytes (at most the payload size) into the next slot, publishes
  /// them as the snapshot's used length and notifies. Readers copy only those bytes.
  /// Returns the sequence.
  std::uint64_t publish(const void* data, std::size_t size) noexcept;
  /// Starts an in-place write: the next slot's payload, marked as being written.
  [[nodiscard]] std::byte* begin_write() noexcept;
  /// Publishes the slot handed out by begin_write(), its first `used_bytes` bytes (at
  /// most the payload size) being the snapshot. Returns the sequence.
  std::uint64_t commit_write(std::size_t used_bytes) noexcept;
  /// commit_write() of the whole payload.
  std::uint64_t commit_write() noexcept;
  /// Abandons the slot handed out by begin_write(); nothing is published.
  void abort_write() noexcept;

  /// For republishers (a bridge importer, replay) whose own source is gone: keeps the
  /// topic and its last snapshot readable but marks the state stale, so subscribers,
  /// late ones too, report StatusEvent::publisher_stalled and UpdateInfo::stale. The
  /// next publish clears it. Called from the publishing thread.
  void mark_source_lost() noexcept;

  [[nodiscard]] PublisherStats stats() const noexcept;
  [[nodiscard]] std::uint64_t epoch() const noexcept;
  [[nodiscard]] std::uint64_t last_seq() const noexcept;
  [[nodiscard]] const std::string& topic() const noexcept;
  [[nodiscard]] const std::string& region_name() const noexcept;

  /// Closes the topic now: SHUTDOWN to every subscriber, region and control queue
  /// unlinked. The destructor does this if it was not called. Idempotent; after it
  /// only the destructor may be called.
  void shutdown() noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

template <Snapshot T>
class Publisher;

/// An in-place write of the next slot: fill *loan, then publish(). A loan dropped
/// without publish() publishes nothing. Writes go straight into shared memory
/// with plain stores; a reader that laps onto the slot retries, but the race
/// detector would report it, so prefer Publisher::publish(value) under TSan.
template <Snapshot T>
class Loan {
 public:
  Loan(Loan&& other) noexcept : core_(std::exchange(other.core_, nullptr)), value_(other.value_) {}
  Loan(const Loan&) = delete;
  Loan& operator=(const Loan&) = delete;
  Loan& operator=(Loan&&) = delete;
  ~Loan() {
    if (core_ != nullptr) {
      core_->abort_write();
    }
  }

  T& operator*() noexcept { return *value_; }
  T* operator->() noexcept { return value_; }
  /// Publishes the loaned slot. Returns the sequence.
  /// For a snapshot that ends in a bounded sequence (schema count_field), only the
  /// fields before it and its elements in use are published (shmsnap::used_bytes).
  std::uint64_t publish() noexcept { return std::exchange(core_, nullptr)->commit_write(used_bytes(*value_)); }
  /// Publishes the first `used_bytes` bytes of the loaned slot (<= sizeof(T)): a
  /// snapshot whose tail (a bounded sequence's unused elements) was not written.
  std::uint64_t publish(std::size_t used_bytes) noexcept {
    return std::exchange(core_, nullptr)->commit_write(used_bytes);
  }

 private:
  friend class Publisher<T>;
  explicit Loan(UntypedPublisher& core) noexcept : core_(&core), value_(reinterpret_cast<T*>(core.begin_write())) {}

  UntypedPublisher* core_;
  T* value_;
};

/// The typed publisher of one topic carrying T.
template <Snapshot T>
class Publisher {
 public:
  /// Creates `topic`. Throws Error; Errc::busy names the live publisher's pid.
  [[nodiscard]] static Publisher create(std::string_view topic, const PublisherOptions& options = {}) {
    return Publisher(std::make_unique<UntypedPublisher>(topic, T::shmsnap_schema, sizeof(T), options));
  }

  /// Publishes a copy of `value`. Never blocks on a subscriber. Returns the sequence.
  /// For a snapshot that ends in a bounded sequence (schema count_field), only the
  /// fields before it and its elements in use are copied (shmsnap::used_bytes).
  std::uint64_t publish(const T& value) noexcept { return core_->publish(&value, used_bytes(value)); }
  /// Publishes the first `used_bytes` bytes of `value` (<= sizeof(T)), copying only
  /// those: for a snapshot that ends in a bounded sequence, the part in use.
  std::uint64_t publish(const T& value, std::size_t used_bytes) noexcept { return core_->publish(&value, used_bytes); }
  /// Writes the next slot in place (see Loan). One loan at a time.
  [[nodiscard]] Loan<T> loan() noexcept { return Loan<T>(*core_); }

  /// Marks the last snapshot stale until the next publish (see UntypedPublisher).
  void mark_source_lost() noexcept { core_->mark_source_lost(); }
  [[nodiscard]] PublisherStats stats() const noexcept { return core_->stats(); }
  [[nodiscard]] std::uint64_t epoch() const noexcept { return core_->epoch(); }
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return core_->last_seq(); }
  /// Closes the topic now (also done by the destructor).
  void shutdown() noexcept { core_->shutdown(); }

 private:
  explicit Publisher(std::unique_ptr<UntypedPublisher> core) : core_(std::move(core)) {}
  std::unique_ptr<UntypedPublisher> core_;
};

}  // namespace shmsnap
