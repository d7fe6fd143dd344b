// The publisher's view of its subscribers' notify queues, read by the fan-out
// (publish() or the notifier thread) without a lock: a fixed array of slots, one
// per subscriber-table entry. Only the control thread adds and retires entries;
// only one thread fans out at a time. A retired queue descriptor is closed by the
// control thread only once no fan-out pass can still be using it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>

#include "shmsnap/detail/message_queue.hpp"

namespace shmsnap::detail {

class FanOutTable {
 public:
  /// Counts of one pass over the table.
  struct PassResult {
    std::uint64_t sent = 0;
    std::uint64_t folded = 0;  ///< queue full: a notification was already pending
    std::uint64_t failed = 0;
  };

  explicit FanOutTable(std::uint32_t capacity) : slots_(std::make_unique<Slot[]>(capacity)), capacity_(capacity) {}

  /// Control thread: starts notifying `queue_descriptor` through slot `index`
  /// (counters reset). `wants_updates` false: control messages only.
  void add(std::uint32_t index, int queue_descriptor, bool wants_updates) noexcept {
    Slot& slot = slots_[index];
    slot.wants_updates.store(wants_updates, std::memory_order_relaxed);
    slot.notified.store(0, std::memory_order_relaxed);
    slot.coalesced.store(0, std::memory_order_relaxed);
    if (index >= limit_.load(std::memory_order_relaxed)) {
      limit_.store(index + 1, std::memory_order_release);
    }
    // Pairs with the acquire load in fan_out: a pass that sees the descriptor sees
    // the slot's other fields as stored above.
    slot.queue_descriptor.store(queue_descriptor, std::memory_order_release);
  }

  /// Control thread: stops notifying through slot `index` and returns once no
  /// fan-out pass can still send to the descriptor it held, which the caller may
  /// then close. Waits at most for one pass (N non-blocking sends).
  void retire(std::uint32_t index) noexcept {
    slots_[index].queue_descriptor.store(-1, std::memory_order_seq_cst);
    // Total order (seq_cst) between this store, this load and a pass's increment
    // and descriptor load: a pass that starts after this load sees -1; one that is
    // running (odd count) may hold the old descriptor, so wait until it ends.
    const std::uint64_t passes = passes_.load(std::memory_order_seq_cst);
    if ((passes & 1U) != 0) {
      while (passes_.load(std::memory_order_seq_cst) == passes) {
        std::this_thread::yield();
      }
    }
  }

  /// The fan-out thread: sends `message` to every slot (UPDATEs only to those that
  /// want them). Never blocks; lock-free.
  PassResult fan_out(std::span<const std::byte> message, unsigned priority, bool is_update) noexcept {
    PassResult result;
    passes_.fetch_add(1, std::memory_order_seq_cst);  // odd: a pass runs (see retire)
    const std::uint32_t limit = limit_.load(std::memory_order_acquire);
    for (std::uint32_t index = 0; index < limit; ++index) {
      Slot& slot = slots_[index];
      const int descriptor = slot.queue_descriptor.load(std::memory_order_seq_cst);
      if (descriptor < 0 || (is_update && !slot.wants_updates.load(std::memory_order_relaxed))) {
        continue;
      }
      switch (MessageQueue::send_to(descriptor, message, priority)) {
        case QueueStatus::ok:
          slot.notified.fetch_add(1, std::memory_order_relaxed);
          ++result.sent;
          break;
        case QueueStatus::full:
          slot.coalesced.fetch_add(1, std::memory_order_relaxed);
          ++result.folded;
          break;
        default:
          ++result.failed;
          break;
      }
    }
    passes_.fetch_add(1, std::memory_order_seq_cst);  // even: no pass runs
    return result;
  }

  /// Any thread: notifications enqueued and folded for slot `index` since add().
  [[nodiscard]] std::uint64_t notified(std::uint32_t index) const noexcept {
    return slots_[index].notified.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t coalesced(std::uint32_t index) const noexcept {
    return slots_[index].coalesced.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return capacity_; }

 private:
  struct Slot {
    std::atomic<int> queue_descriptor{-1};  // -1: nobody to notify
    std::atomic<bool> wants_updates{false};
    std::atomic<std::uint64_t> notified{0};
    std::atomic<std::uint64_t> coalesced{0};
  };

  std::unique_ptr<Slot[]> slots_;
  std::uint32_t capacity_;
  std::atomic<std::uint32_t> limit_{0};   // 1 + the highest slot ever added: bounds a pass
  std::atomic<std::uint64_t> passes_{0};  // odd while a fan-out pass runs
};

}  // namespace shmsnap::detail
