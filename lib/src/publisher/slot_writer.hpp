// The publisher's slot writer: the write side of the region's slots. It owns the
// sequence of publishes, which slot is current, the open loan, the source-lost
// mark and the mid-write fault hook, and it writes the slots, the published word
// and the region's state word; no other part writes those.
// Threads: the publishing thread only (the closing thread for mark_closed(), once
// publishing stopped); published() and last_seq() may be read from any thread
// that the publishing thread's stores happen-before (stats, the heartbeat mirror).
#pragma once

#include <signal.h>

#include <atomic>
#include <cstdint>

#include "region/region_writer.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"

namespace shmsnap::detail {

class SlotWriter {
 public:
  /// One publish, as commit_write() stored it.
  struct Committed {
    std::uint64_t seq = 0;
    std::int64_t ts = 0;
  };

  /// Writes the slots of `region` (which must outlive it), `slot_count` of them.
  SlotWriter(RegionWriter& region, std::uint32_t slot_count) noexcept;

  /// Publishing thread: the next slot's payload, its sequence made odd so readers
  /// retry until commit_write() or abort_write(). One loan at a time.
  [[nodiscard]] std::byte* begin_write() noexcept {
    SHMSNAP_EXPECTS(!loan_open_ && "loan() or publish() while a Loan is open: publish or drop the Loan first");
    loan_open_ = true;
    loan_slot_ = (current_slot_ + 1) % slot_count_;
    region_.slot(loan_slot_).lock.write_begin(region_.slot_sequence(loan_slot_));
    return region_.payload(loan_slot_);
  }

  /// Publishing thread: publishes the loaned slot, its first `used_bytes` bytes being
  /// the snapshot (sequence even, published word stored), and returns its sequence
  /// and timestamp for the fan-out.
  Committed commit_write(std::size_t used_bytes) noexcept {
    SHMSNAP_EXPECTS(loan_open_);
    loan_open_ = false;
    const std::uint64_t seq = ++seq_;
    const std::int64_t ts = monotonic_ns();
    SlotHeader& slot = region_.slot(loan_slot_);
    if (seq == fault_seq_) {
      raise(SIGKILL);  // test executables only (fault_injection.hpp): die with the slot's sequence odd
    }
    slot.publish_seq.store(seq, std::memory_order_relaxed);
    slot.publish_ts_ns.store(ts, std::memory_order_relaxed);
    slot.used_bytes.store(used_bytes, std::memory_order_relaxed);
    slot.lock.write_end(region_.slot_sequence(loan_slot_));
    // Pairs with the acquire load of `published` in RegionReader::try_read. The
    // fan-out's notification is sent after this store, and the subscriber reads
    // `published` after dequeuing it: a wake-up can never precede its snapshot.
    region_.header().published.store(pack_published(seq, loan_slot_), std::memory_order_release);
    current_slot_ = loan_slot_;
    published_.fetch_add(1, std::memory_order_relaxed);
    if (source_lost_) {
      source_lost_ = false;
      region_.header().state.store(static_cast<std::uint32_t>(RegionState::live), std::memory_order_release);
    }
    return Committed{seq, ts};
  }

  /// Publishing thread: abandons the loaned slot; nothing is published.
  void abort_write() noexcept;

  /// Publishing thread: marks the region's state source_lost until the next commit.
  void mark_source_lost() noexcept;
  /// Closing thread, after publishing stopped: marks the region's state closed.
  void mark_closed() noexcept;

  [[nodiscard]] bool loan_open() const noexcept { return loan_open_; }
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return seq_; }
  [[nodiscard]] std::uint64_t published() const noexcept { return published_.load(std::memory_order_relaxed); }

 private:
  RegionWriter& region_;
  std::uint32_t slot_count_;
  std::uint64_t fault_seq_;  // the publish that dies mid-write (0: none)
  std::uint64_t seq_ = 0;
  std::uint32_t current_slot_ = 0;
  std::uint32_t loan_slot_ = 0;
  bool loan_open_ = false;    // between begin_write and commit_write/abort_write
  bool source_lost_ = false;  // mark_source_lost() until the next publish
  std::atomic<std::uint64_t> published_{0};
};

}  // namespace shmsnap::detail
