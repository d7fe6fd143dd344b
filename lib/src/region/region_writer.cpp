#include "region/region_writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <thread>
#include <utility>

#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/region.hpp"
#include "system/log.hpp"
#include "system/os_error.hpp"
#include "system/process.hpp"

namespace shmsnap::detail {
namespace {

// How long a region without magic counts as "being created by someone else"
// rather than "abandoned mid-creation".
constexpr double creation_grace_seconds = 2.0;
constexpr int create_attempts = 50;

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::uint64_t region_size_for(const RegionSpec& spec, std::uint64_t& header_size) {
  const std::uint64_t descriptor_offset =
      sizeof(RegionHeader) + std::uint64_t{spec.max_subscribers} * sizeof(SubscriberEntry);
  header_size = round_to_line(descriptor_offset + spec.schema.descriptor.size());
  const std::uint64_t stride = sizeof(SlotHeader) + round_to_line(spec.payload_size);
  return header_size + std::uint64_t{spec.slot_count} * stride;
}

void validate_spec(const RegionSpec& spec) {
  if ((spec.mode & writable_by_others) != 0) {
    throw Error(Errc::invalid_argument, "topic '" + spec.topic + "': region mode " + octal(spec.mode) +
                                            " lets users other than the publisher's write /dev/shm" + spec.shm_name +
                                            " (truncate it under the publisher, or forge snapshots); readers refuse "
                                            "such a region. Share a topic by read bits only: 0640 (its group) or "
                                            "0644 (everyone)");
  }
  if (spec.slot_count < 2 || spec.slot_count > max_slot_count) {
    throw Error(Errc::invalid_argument, "topic '" + spec.topic + "': slot_count " + std::to_string(spec.slot_count) +
                                            " is outside 2.." + std::to_string(max_slot_count));
  }
  if (spec.max_subscribers < 1 || spec.max_subscribers > max_table_entries) {
    throw Error(Errc::invalid_argument, "topic '" + spec.topic + "': max_subscribers " +
                                            std::to_string(spec.max_subscribers) + " is outside 1.." +
                                            std::to_string(max_table_entries));
  }
  if (spec.payload_size < 1 || spec.payload_size > max_payload_size) {
    throw Error(Errc::invalid_argument, "topic '" + spec.topic + "': snapshot size " +
                                            std::to_string(spec.payload_size) + " is outside 1.." +
                                            std::to_string(max_payload_size));
  }
  if (spec.schema.descriptor.size() > max_descriptor_size || spec.schema.name.size() >= 64) {
    throw Error(Errc::invalid_argument, "topic '" + spec.topic + "': schema name (64) or descriptor (" +
                                            std::to_string(max_descriptor_size) + " bytes) too long");
  }
}

// Reads what a dead owner left: its epoch and subscriber ids, if its header is sane
// and its owner one a reader would trust (a squatter's header is not evidence).
void inspect_previous(SharedMemory& existing, PreviousOwner& previous) {
  previous.existed = true;
  previous.owner = existing.owner();
  previous.trusted = TrustedOwners{}.trusts(previous.owner);
  if (!previous.trusted || existing.file_size() < sizeof(RegionHeader)) {
    return;
  }
  existing.map();
  const auto* bytes = static_cast<const std::byte*>(existing.address());
  if (!RegionReader::validate(bytes, existing.mapped_size()).valid()) {
    return;
  }
  const auto& header = *reinterpret_cast<const RegionHeader*>(bytes);
  previous.pid = header.publisher_pid;
  previous.epoch = header.epoch;
  const auto* table = reinterpret_cast<const SubscriberEntry*>(bytes + header.subscriber_table_offset);
  for (std::uint32_t index = 0; index < header.max_subscribers; ++index) {
    if (table[index].state.load(std::memory_order_relaxed) == static_cast<std::uint32_t>(TableEntryState::active)) {
      const std::string id(table[index].id, strnlen(table[index].id, sizeof table[index].id));
      // The dead owner's table is outside input: only an id that names a queue
      // of this topic may become a queue name.
      if (is_valid_name(id, max_subscriber_id_length)) {
        previous.subscribers.push_back({id, table[index].pid.load(std::memory_order_relaxed)});
      }
    }
  }
}

std::string holder_description(SharedMemory& existing) {
  std::string owner = "an unknown user";
  try {
    owner = "user " + user_name(existing.owner());
    if (existing.file_size() < sizeof(RegionHeader)) {
      return "a publisher of " + owner + " that is still creating it";
    }
    existing.map();
    const auto* bytes = static_cast<const std::byte*>(existing.address());
    if (RegionReader::validate(bytes, existing.mapped_size()).valid()) {
      return "a live publisher (pid " + std::to_string(reinterpret_cast<const RegionHeader*>(bytes)->publisher_pid) +
             ", " + owner + ")";
    }
  } catch (const Error&) {
  }
  return "a process of " + owner + " (not a readable shmsnap region)";
}

}  // namespace

RegionWriter RegionWriter::create(const RegionSpec& spec, PreviousOwner& previous) {
  validate_spec(spec);
  for (int attempt = 0; attempt < create_attempts; ++attempt) {
    RegionWriter writer;
    try {
      writer.memory_ = SharedMemory::create(spec.shm_name, spec.mode);
    } catch (const Error& failure) {
      if (failure.code() != Errc::busy) {
        throw;
      }
      SharedMemory existing;
      try {
        existing = SharedMemory::open(spec.shm_name, SharedMemory::Access::read_write);
      } catch (const Error& gone) {
        if (gone.code() == Errc::not_found) {
          continue;  // removed between our create and open: try again
        }
        throw;
      }
      if (!existing.try_lock_exclusive()) {
        throw Error(Errc::busy, "topic '" + spec.topic + "' (/dev/shm" + spec.shm_name + ") is held by " +
                                    holder_description(existing) +
                                    "; stop that publisher first, or use another topic or prefix");
      }
      bool initialised = false;
      if (existing.file_size() >= sizeof(RegionHeader)) {
        existing.map();
        initialised = static_cast<const RegionHeader*>(existing.address())->magic.load(std::memory_order_acquire) != 0;
      }
      if (!initialised && existing.age_seconds() < creation_grace_seconds) {
        // Most likely another publisher between its create and its lock: wait and look again.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      existing.unmap();
      inspect_previous(existing, previous);
      if (previous.trusted) {
        log().warn("topic '{}': publisher pid {} is gone; taking over its region (epoch {} -> {})", spec.topic,
                   previous.pid, previous.epoch, next_epoch(previous));
      } else {
        log().warn(
            "topic '{}': replacing /dev/shm{} of user {}, whom readers do not trust (a squatter?); its header is "
            "ignored and the epoch starts at {}",
            spec.topic, spec.shm_name, user_name(previous.owner), next_epoch(previous));
      }
      if (!SharedMemory::remove(spec.shm_name) && errno != ENOENT) {
        // Another user's file in the sticky /dev/shm: every further round would fail alike.
        throw os_error(errno, "remove the dead region",
                       "/dev/shm" + spec.shm_name + " of user " + user_name(previous.owner),
                       "remove it as that user or root ('shmsnap clean'), or use another topic or prefix");
      }
      continue;  // `existing` closes here, releasing the dead owner's lock
    }
    writer.owned_ = true;
    // Another starting publisher may hold our new file's lock for a moment while it
    // looks whether its owner is dead (it backs off on seeing no magic yet).
    bool locked = writer.memory_.try_lock_exclusive();
    for (int retry = 0; !locked && retry < 100; ++retry) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      locked = writer.memory_.try_lock_exclusive();
    }
    if (!locked) {
      throw Error(Errc::busy, "cannot lock the new region /dev/shm" + spec.shm_name +
                                  ": another process keeps it locked; try again");
    }
    std::uint64_t header_size = 0;
    const std::uint64_t size = region_size_for(spec, header_size);
    writer.memory_.reserve(size);  // on failure the destructor removes the name
    writer.memory_.map();
    writer.initialise(spec, next_epoch(previous), size);
    return writer;
  }
  throw Error(Errc::busy, "topic '" + spec.topic + "': could not create /dev/shm" + spec.shm_name +
                              " (another publisher keeps racing for it); try again");
}

RegionWriter RegionWriter::create_sealed(const RegionSpec& spec, std::uint64_t epoch) {
  SHMSNAP_EXPECTS(epoch >= 1);
  validate_spec(spec);
  RegionWriter writer;
  writer.memory_ = SharedMemory::create_sealable("shmsnap" + spec.shm_name);
  writer.owned_ = true;
  std::uint64_t header_size = 0;
  const std::uint64_t size = region_size_for(spec, header_size);
  writer.memory_.reserve(size);
  writer.memory_.map();
  // Sealed before the header is written, and so before any descriptor can leave:
  // no reader ever holds a version of this file that could still be resized.
  writer.memory_.seal();
  writer.initialise(spec, epoch, size);
  return writer;
}

std::uint64_t RegionWriter::next_epoch(const PreviousOwner& previous) noexcept {
  if (!previous.trusted || previous.epoch == std::numeric_limits<std::uint64_t>::max()) {
    return 1;
  }
  return previous.epoch + 1;
}

void RegionWriter::initialise(const RegionSpec& spec, std::uint64_t epoch, std::uint64_t size) {
  base_ = static_cast<std::byte*>(memory_.address());
  header_ = new (base_) RegionHeader();
  RegionHeader& header = *header_;
  header.layout_version = region_layout_version;
  header.region_size = size;
  header.slot_count = spec.slot_count;
  header.payload_size = spec.payload_size;
  header.slot_stride = static_cast<std::uint32_t>(sizeof(SlotHeader) + round_to_line(spec.payload_size));
  header.max_subscribers = spec.max_subscribers;
  header.schema_fingerprint = spec.schema.fingerprint;
  header.schema_version = spec.schema.version;
  header.descriptor_size = static_cast<std::uint32_t>(spec.schema.descriptor.size());
  std::memcpy(header.schema_name, spec.schema.name.data(), spec.schema.name.size());
  header.publisher_pid = getpid();
  header.publisher_start_time = process_start_time(getpid());
  header.epoch = epoch;
  epoch_ = epoch;
  header.created_realtime_ns = realtime_ns();
  header.origin_id = spec.origin_id;
  header.subscriber_table_offset = sizeof(RegionHeader);
  header.descriptor_offset = sizeof(RegionHeader) + std::uint64_t{spec.max_subscribers} * sizeof(SubscriberEntry);
  header.header_size = round_to_line(header.descriptor_offset + header.descriptor_size);
  header_size_ = header.header_size;
  slot_stride_ = header.slot_stride;
  slot_count_ = spec.slot_count;
  max_subscribers_ = spec.max_subscribers;
  slot_sequences_.assign(spec.slot_count, 0);
  table_sequence_ = 0;
  for (std::uint32_t index = 0; index < spec.max_subscribers; ++index) {
    new (&entry(index)) SubscriberEntry();
  }
  std::memcpy(base_ + header.descriptor_offset, spec.schema.descriptor.data(), spec.schema.descriptor.size());
  for (std::uint32_t index = 0; index < spec.slot_count; ++index) {
    new (&slot(index)) SlotHeader();
  }
  header.heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
  header.state.store(static_cast<std::uint32_t>(RegionState::live), std::memory_order_relaxed);
  // Pairs with the acquire load of magic in RegionReader::open: the header above
  // is complete before any reader accepts the region.
  header.magic.store(region_magic, std::memory_order_release);
}

RegionWriter::RegionWriter(RegionWriter&& other) noexcept {
  *this = std::move(other);
}

RegionWriter& RegionWriter::operator=(RegionWriter&& other) noexcept {
  if (this != &other) {
    close();
    memory_ = std::move(other.memory_);
    header_ = std::exchange(other.header_, nullptr);
    base_ = std::exchange(other.base_, nullptr);
    owned_ = std::exchange(other.owned_, false);
    header_size_ = std::exchange(other.header_size_, 0);
    slot_stride_ = std::exchange(other.slot_stride_, 0);
    slot_count_ = std::exchange(other.slot_count_, 0);
    max_subscribers_ = std::exchange(other.max_subscribers_, 0);
    slot_sequences_ = std::move(other.slot_sequences_);
    table_sequence_ = std::exchange(other.table_sequence_, 0);
    epoch_ = std::exchange(other.epoch_, 0);
  }
  return *this;
}

RegionWriter::~RegionWriter() {
  close();
}

void RegionWriter::close() noexcept {
  if (!owned_) {
    return;
  }
  owned_ = false;
  if (header_ != nullptr) {
    header_->state.store(static_cast<std::uint32_t>(RegionState::closed), std::memory_order_release);
  }
  // Remove the name while we still hold the lock, so no successor can be
  // mistaken for us; readers keep their mapping until they let go. A memfd has
  // no name: it goes when the last descriptor and mapping do.
  if (!memory_.anonymous()) {
    SharedMemory::remove(memory_.name());
  }
  memory_.unmap();
  header_ = nullptr;
  base_ = nullptr;
}

SlotHeader& RegionWriter::slot(std::uint32_t index) noexcept {
  SHMSNAP_EXPECTS(index < slot_count_);
  return *reinterpret_cast<SlotHeader*>(base_ + header_size_ + std::uint64_t{index} * slot_stride_);
}

std::byte* RegionWriter::payload(std::uint32_t index) noexcept {
  return reinterpret_cast<std::byte*>(&slot(index)) + sizeof(SlotHeader);
}

std::uint64_t& RegionWriter::slot_sequence(std::uint32_t index) noexcept {
  SHMSNAP_EXPECTS(index < slot_count_);
  return slot_sequences_[index];
}

SubscriberEntry& RegionWriter::entry(std::uint32_t index) noexcept {
  SHMSNAP_EXPECTS(index < max_subscribers_);
  return reinterpret_cast<SubscriberEntry*>(base_ + sizeof(RegionHeader))[index];
}

}  // namespace shmsnap::detail
