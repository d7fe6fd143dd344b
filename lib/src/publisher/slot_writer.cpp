// The slot writer (slot_writer.hpp): its cold paths. The publish path itself,
// begin_write and commit_write, is inline in the header so that publish() pays
// no call into another translation unit for it.

#include "publisher/slot_writer.hpp"

#include "system/fault_injection.hpp"

namespace shmsnap::detail {

SlotWriter::SlotWriter(RegionWriter& region, std::uint32_t slot_count) noexcept
    : region_(region), slot_count_(slot_count), fault_seq_(mid_write_fault_seq()) {}

void SlotWriter::abort_write() noexcept {
  SHMSNAP_EXPECTS(loan_open_);
  loan_open_ = false;
  // The payload is half overwritten: mark the slot as belonging to no publish, so
  // a reader that loaded an older published word onto it retries (region_reader.cpp).
  SlotHeader& slot = region_.slot(loan_slot_);
  slot.publish_seq.store(0, std::memory_order_relaxed);
  slot.lock.write_end(region_.slot_sequence(loan_slot_));
}

void SlotWriter::mark_source_lost() noexcept {
  source_lost_ = true;
  region_.header().state.store(static_cast<std::uint32_t>(RegionState::source_lost), std::memory_order_release);
}

void SlotWriter::mark_closed() noexcept {
  // Readers check the state word on every wake-up, so a SHUTDOWN that finds a full
  // queue is not lost: the pending message wakes them just the same.
  region_.header().state.store(static_cast<std::uint32_t>(RegionState::closed), std::memory_order_release);
}

}  // namespace shmsnap::detail
