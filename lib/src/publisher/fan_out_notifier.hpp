// The publisher's fan-out: after each publish, one non-blocking notification to
// every registered subscriber's queue, sent by the publishing thread itself or by
// the notifier thread (FanOut::notifier_thread). It owns the FanOutTable of queue
// descriptors, the notifier thread and the notification counters.
// Threads: notify_update() and notify_all() from the publishing thread (or, once
// start() ran and stop() did not, the notifier thread sends for it); add() and
// retire() from the registry's thread (the control thread) only, which never
// stalls a fan-out pass and is never stalled by one for longer than that pass;
// the counters from any thread. start()/stop() from the engine's owning thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "publisher/fan_out_table.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/publisher.hpp"

namespace shmsnap::detail {

// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions): owns a thread; neither copied nor moved
class FanOutNotifier {
 public:
  /// A table of `capacity` subscriber slots; `mode` says who sends an UPDATE;
  /// every message carries `epoch`.
  FanOutNotifier(std::uint32_t capacity, FanOut mode, std::uint64_t epoch);
  /// Stops the notifier thread if still running.
  ~FanOutNotifier();
  FanOutNotifier(const FanOutNotifier&) = delete;
  FanOutNotifier& operator=(const FanOutNotifier&) = delete;

  /// Starts the notifier thread when the mode asks for one. Throws std::system_error.
  void start();
  /// Joins the notifier thread; an UPDATE it had not yet sent is dropped (the
  /// engine sends SHUTDOWN next). Idempotent.
  void stop() noexcept;

  /// Publishing thread, after the published word is stored: UPDATE for `seq` to
  /// every subscriber that wants one, now (FanOut::caller) or by the notifier
  /// thread, which sends only the newest of several. No allocation, lock or syscall
  /// beyond one mq_send per subscriber (caller) or one futex wake (notifier thread).
  void notify_update(std::uint64_t seq, std::int64_t ts) noexcept {
    if (mode_ == FanOut::caller) {
      notify_all(NotifyKind::update, seq, ts);
    } else {
      pending_ts_.store(ts, std::memory_order_relaxed);
      pending_seq_.store(seq, std::memory_order_release);  // pairs with notifier_loop's wait
      pending_seq_.notify_one();
    }
  }

  /// Publishing thread (or the notifier thread, or the closing thread once it
  /// stopped): one message of `kind` to every subscriber, now. Never blocks.
  void notify_all(NotifyKind kind, std::uint64_t seq, std::int64_t ts) noexcept;

  /// Registry (control thread): starts notifying `queue_descriptor` through table
  /// slot `index`. `wants_updates` false: control messages only.
  void add(std::uint32_t index, int queue_descriptor, bool wants_updates) noexcept {
    table_.add(index, queue_descriptor, wants_updates);
  }
  /// Registry (control thread): stops notifying through slot `index`; on return no
  /// pass can still use its descriptor, which the caller may then close.
  void retire(std::uint32_t index) noexcept { table_.retire(index); }

  /// Any thread: per-slot counts since add(), and the totals since construction.
  [[nodiscard]] std::uint64_t notified(std::uint32_t index) const noexcept { return table_.notified(index); }
  [[nodiscard]] std::uint64_t coalesced(std::uint32_t index) const noexcept { return table_.coalesced(index); }
  [[nodiscard]] std::uint64_t notified_total() const noexcept { return notified_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t coalesced_total() const noexcept { return coalesced_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t send_errors() const noexcept { return send_errors_.load(std::memory_order_relaxed); }

 private:
  void notifier_loop() noexcept;

  FanOutTable table_;
  const FanOut mode_;
  const std::uint64_t epoch_;
  std::atomic<std::uint64_t> notified_{0};
  std::atomic<std::uint64_t> coalesced_{0};
  std::atomic<std::uint64_t> send_errors_{0};

  // Notifier thread: notify_update() bumps `pending_seq_` and wakes it; it sends
  // UPDATE for the newest sequence.
  std::atomic<std::uint64_t> pending_seq_{0};
  std::atomic<std::int64_t> pending_ts_{0};
  std::atomic<bool> stopping_{false};
  std::thread notifier_;
};

}  // namespace shmsnap::detail
