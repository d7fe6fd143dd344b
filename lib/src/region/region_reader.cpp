#include "shmsnap/region.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "region/shared_memory.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/printable.hpp"
#include "system/process.hpp"

// TSan's interface for the zero-copy visitor (see IgnoreRacesInVisitor below).
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHMSNAP_REGION_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define SHMSNAP_REGION_TSAN 1
#endif

#if defined(SHMSNAP_REGION_TSAN)
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif

namespace shmsnap {
namespace {

using detail::RegionHeader;
using detail::SlotHeader;

// A region whose magic is still 0 is being created; its creator stores the magic
// within microseconds, so a short bounded wait tells "starting" from "abandoned".
constexpr int initialisation_polls = 40;
constexpr auto initialisation_poll_interval = std::chrono::milliseconds(25);

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

struct RegionReader::Mapping {
  detail::SharedMemory memory;
  // Readable once the publisher is gone: its pidfd (-1 where the kernel has no
  // pidfd_open), or in socket mode the connection to it.
  int pidfd = -1;

  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (pidfd >= 0) {
      ::close(pidfd);
    }
  }
};

RegionReader::RegionReader(std::unique_ptr<Mapping> mapping) : mapping_(std::move(mapping)) {}
RegionReader::RegionReader(RegionReader&&) noexcept = default;
RegionReader& RegionReader::operator=(RegionReader&&) noexcept = default;
RegionReader::~RegionReader() = default;

RegionReader RegionReader::open(const std::string& shm_name, const TrustedOwners& trusted) {
  auto mapping = std::make_unique<Mapping>();
  mapping->memory = detail::SharedMemory::open(shm_name, detail::SharedMemory::Access::read_only);
  // Checked on the descriptor we read through, so the name cannot be swapped in between.
  if (const uid_t owner = mapping->memory.owner(); !trusted.trusts(owner)) {
    const std::string who = user_name(owner);
    throw Error(Errc::permission_denied,
                "region /dev/shm" + shm_name + " is owned by user " + who + ", whom this reader does not trust (it " +
                    "trusts its own user and root): another user may have created the name before the real "
                    "publisher. If that user runs the publisher, trust it with SubscriberOptions::trusted_owners "
                    "or --trust-owner " +
                    login_name(owner) +
                    "; otherwise remove the region and start "
                    "the real publisher");
  }
  if (const mode_t mode = mapping->memory.mode(); (mode & detail::writable_by_others) != 0 && !trusted.anyone) {
    throw Error(Errc::permission_denied,
                "region /dev/shm" + shm_name + " has mode " + octal_mode(mode) +
                    ": users other than its owner may write it (truncate it under its publisher, or forge "
                    "snapshots), so this reader refuses it. A publisher never creates such a region; if its owner "
                    "changed the mode, 'chmod go-w /dev/shm" +
                    shm_name + "' or restart the publisher");
  }
  RegionValidation checked{std::nullopt, "the region is not initialised"};
  for (int poll = 0; poll < initialisation_polls; ++poll) {
    const std::uint64_t size = mapping->memory.file_size();
    if (size >= sizeof(RegionHeader)) {
      mapping->memory.map();
      const auto* header = static_cast<const RegionHeader*>(mapping->memory.address());
      // Pairs with the creator's release store of magic: every header field
      // written before it is visible once we see it.
      if (header->magic.load(std::memory_order_acquire) != 0) {
        checked = validate(static_cast<const std::byte*>(mapping->memory.address()), mapping->memory.mapped_size());
        break;
      }
      mapping->memory.unmap();
      checked.problem = "the region is not initialised (a publisher is starting, or died while creating it)";
    } else {
      checked = validate(nullptr, size);
    }
    std::this_thread::sleep_for(initialisation_poll_interval);
  }
  if (!checked.valid()) {
    throw Error(Errc::invalid_region, "region /dev/shm" + shm_name + " is unusable: " + checked.problem +
                                          "; if no publisher is running, remove it with 'shmsnap clean'");
  }
  RegionReader reader = from_validated(std::move(mapping), *checked.geometry, shm_name);
  const int pidfd = detail::open_pidfd(reader.publisher_pid_);
  // The pid may have been reused between the header's write and our pidfd_open:
  // the start time, checked after the open, says the pidfd names the publisher.
  if (pidfd >= 0 && detail::process_alive(reader.publisher_pid_, reader.publisher_start_time_)) {
    reader.mapping_->pidfd = pidfd;
  } else if (pidfd >= 0) {
    ::close(pidfd);
  }
  return reader;
}

RegionReader RegionReader::from_validated(std::unique_ptr<Mapping> mapping, const RegionGeometry& geometry,
                                          const std::string& name) {
  RegionReader reader(std::move(mapping));
  reader.base_ = static_cast<const std::byte*>(reader.mapping_->memory.address());
  reader.header_ = reinterpret_cast<const RegionHeader*>(reader.base_);
  reader.geometry_ = geometry;
  reader.inode_ = reader.mapping_->memory.inode();
  reader.group_ = reader.mapping_->memory.group();
  reader.owner_ = reader.mapping_->memory.owner();
  reader.name_ = name;
  // Copies taken now, after validation: whoever may write the region could rewrite
  // these fields later to point liveness checks at another process.
  reader.publisher_pid_ = reader.header_->publisher_pid;
  reader.publisher_start_time_ = reader.header_->publisher_start_time;
  reader.epoch_ = reader.header_->epoch;
  reader.origin_id_ = reader.header_->origin_id;
  return reader;
}

RegionReader RegionReader::adopt_sealed(int region, std::uint64_t region_size, int liveness, uid_t owner,
                                        const std::string& label) {
  auto mapping = std::make_unique<Mapping>();
  mapping->pidfd = liveness;  // closed with the mapping, also when a check below throws
  mapping->memory = detail::SharedMemory::adopt_sealed(region, region_size, region_size);
  // Sealed and sent whole by a publisher that initialised it before sending: no
  // "still being created" wait as for a name.
  const RegionValidation checked =
      validate(static_cast<const std::byte*>(mapping->memory.address()), mapping->memory.mapped_size());
  if (!checked.valid()) {
    throw Error(Errc::invalid_region, "the region " + label + " sent by its publisher is unusable: " + checked.problem +
                                          "; the peer is not a working shmsnap publisher");
  }
  RegionReader reader = from_validated(std::move(mapping), *checked.geometry, label);
  reader.owner_ = owner;
  return reader;
}

ReadStatus RegionReader::try_read(std::span<std::byte> destination, SnapshotMeta& meta, std::uint64_t& retries,
                                  unsigned max_attempts) const noexcept {
  std::size_t touched = 0;  // the most bytes any attempt copied
  auto copy = [&](std::span<const std::byte> payload) {
    const std::size_t size = std::min(destination.size(), payload.size());
    copy_from_shared(destination.data(), payload.data(), size);
    touched = std::max(touched, size);
  };
  auto call = [](void* context, std::span<const std::byte> payload) {
    (*static_cast<decltype(copy)*>(context))(payload);
  };
  const ReadStatus status = visit_newest(call, &copy, meta, retries, max_attempts, false);
  if (status == ReadStatus::ok) {
    // An attempt that raced the writer may have copied a longer (older) snapshot:
    // what it left past this one's end is not this snapshot's.
    const std::size_t used = std::min<std::size_t>(destination.size(), meta.used_bytes);
    if (touched > used)
      std::memset(destination.data() + used, 0, touched - used);
  }
  return status;
}

bool RegionReader::file_intact() const {
  return mapping_->memory.file_size() >= geometry_.region_size;
}

std::optional<std::vector<std::byte>> RegionReader::read_newest(SnapshotMeta& meta) const {
  constexpr unsigned rounds = 1000;  // a reader lapped this often by the writer is very unlucky
  if (!file_intact()) {
    throw Error(Errc::invalid_region, "region /dev/shm" + name_ +
                                          " was truncated below the size it was created with (" +
                                          std::to_string(geometry_.region_size) +
                                          " bytes) by a process with write access; restart its publisher");
  }
  std::vector<std::byte> bytes(geometry_.payload_size);
  std::uint64_t retries = 0;
  for (unsigned round = 0; round < rounds; ++round) {
    switch (try_read(bytes, meta, retries)) {
      case ReadStatus::ok:
        bytes.resize(static_cast<std::size_t>(meta.used_bytes));  // only what the publish wrote
        return bytes;
      case ReadStatus::empty:
        return std::nullopt;
      case ReadStatus::corrupt:
        throw Error(Errc::invalid_region, "region /dev/shm" + name_ +
                                              " publishes a slot outside the region, or a snapshot longer than its " +
                                              std::to_string(geometry_.payload_size) +
                                              "-byte capacity (written by someone other than its publisher); "
                                              "restart the publisher");
      case ReadStatus::inconsistent:
        throw Error(Errc::invalid_region, "region /dev/shm" + name_ +
                                              ": the published slot claims a publish that was never announced (the "
                                              "region was written by someone other than its publisher)");
      case ReadStatus::contended:
        std::this_thread::yield();
        break;
    }
  }
  throw Error(Errc::timed_out, "region /dev/shm" + name_ +
                                   ": the writer overtook every read attempt; the publisher writes faster than a "
                                   "snapshot can be copied (give it more slots)");
}

namespace {

// Around a zero-copy visitor under TSan: its plain loads race the writer by design
// (the seqlock discards what a racing call saw), so TSan is told to ignore this
// thread's accesses for exactly the duration of the call. No-op otherwise.
class IgnoreRacesInVisitor {
 public:
  explicit IgnoreRacesInVisitor(bool active) noexcept : active_(active) {
#if defined(SHMSNAP_REGION_TSAN)
    if (active_)
      __tsan_ignore_thread_begin();
#endif
  }
  ~IgnoreRacesInVisitor() {  // NOLINT(modernize-use-equals-default): empty only without TSan
#if defined(SHMSNAP_REGION_TSAN)
    if (active_)
      __tsan_ignore_thread_end();
#endif
  }
  IgnoreRacesInVisitor(const IgnoreRacesInVisitor&) = delete;
  IgnoreRacesInVisitor& operator=(const IgnoreRacesInVisitor&) = delete;

 private:
  [[maybe_unused]] bool active_;
};

// Copies payload bytes [offset, offset + size) of a slot whose payload starts 8-byte
// aligned: the unaligned head through its covering word, the rest with the seqlock copy.
void copy_range_from_shared(std::byte* out, const std::byte* payload, std::size_t offset, std::size_t size) noexcept {
  while (size > 0 && offset % 8 != 0) {
    std::byte word[8];
    copy_from_shared_words(word, payload + offset / 8 * 8, 8);
    const std::size_t count = std::min<std::size_t>(8 - offset % 8, size);
    std::memcpy(out, word + offset % 8, count);
    out += count;
    offset += count;
    size -= count;
  }
  if (size > 0)
    copy_from_shared(out, payload + offset, size);
}

}  // namespace

ReadStatus RegionReader::visit_newest(VisitCall call, void* context, SnapshotMeta& meta, std::uint64_t& retries,
                                      unsigned max_attempts, bool plain_reads) const {
  for (unsigned attempt = 0; attempt < max_attempts; ++attempt) {
    // Pairs with the publisher's release store of `published` after write_end.
    const std::uint64_t word = header_->published.load(std::memory_order_acquire);
    if (word == 0) {
      return ReadStatus::empty;
    }
    const std::uint32_t slot = detail::published_slot(word);
    if (slot >= geometry_.slot_count) {
      return ReadStatus::corrupt;
    }
    const std::byte* slot_base = base_ + geometry_.header_size + std::uint64_t{slot} * geometry_.slot_stride;
    const auto& slot_header = *reinterpret_cast<const SlotHeader*>(slot_base);
    const std::uint64_t begin = slot_header.lock.read_begin();
    if ((begin & 1U) != 0) {
      ++retries;
      continue;
    }
    // The used length is read inside the critical section like the payload: a
    // value beyond the capacity is torn (retry) or forged (refused once stable),
    // and is never used to address the payload.
    const std::uint64_t used = slot_header.used_bytes.load(std::memory_order_relaxed);
    const bool used_fits = used <= geometry_.payload_size;
    if (used_fits) {
      const IgnoreRacesInVisitor ignore(plain_reads);
      call(context, std::span<const std::byte>(slot_base + sizeof(SlotHeader), static_cast<std::size_t>(used)));
    }
#if SHMSNAP_SEQLOCK_ASM_COPY
    // The visitor may itself copy with string instructions (memcpy): order its loads
    // before the re-check as copy_from_shared does (see seqlock.hpp).
    asm volatile("lfence" ::: "memory");
#endif
    const std::uint64_t seq = slot_header.publish_seq.load(std::memory_order_relaxed);
    const std::int64_t publish_ts = slot_header.publish_ts_ns.load(std::memory_order_relaxed);
    if (slot_header.lock.read_retry(begin)) {
      ++retries;
      continue;
    }
    if (!used_fits) {
      return ReadStatus::corrupt;
    }
    // The copy is consistent; is it a publish the writer announced? The slot may
    // hold an older one (recycled; an abandoned Loan leaves sequence 0), or a newer
    // one when the writer reused it between our two loads: then re-read. A slot
    // beyond the next publish was never written by the publisher: refuse it.
    if (seq != detail::published_seq(word)) {
      const std::uint64_t newest = detail::published_seq(header_->published.load(std::memory_order_acquire));
      if (seq > newest + 1) {
        return ReadStatus::inconsistent;
      }
      ++retries;
      continue;
    }
    meta.seq = seq;
    meta.publish_ts_ns = publish_ts;
    meta.used_bytes = used;
    return ReadStatus::ok;
  }
  return ReadStatus::contended;
}

ReadStatus RegionReader::read_fields(std::span<const FieldRange> fields, std::span<std::byte> destination,
                                     SnapshotMeta& meta, std::uint64_t& retries, unsigned max_attempts) const {
  std::size_t total = 0;
  for (const auto& field : fields) {
    if (field.offset > geometry_.payload_size || field.size > geometry_.payload_size - field.offset) {
      throw Error(Errc::invalid_argument, "read_fields on " + name_ + ": range [" + std::to_string(field.offset) +
                                              ", +" + std::to_string(field.size) + ") lies outside the " +
                                              std::to_string(geometry_.payload_size) +
                                              "-byte payload; take offsets and sizes from the topic's descriptor");
    }
    total += field.size;
  }
  if (total > destination.size()) {
    throw Error(Errc::invalid_argument, "read_fields on " + name_ + ": the ranges need " + std::to_string(total) +
                                            " bytes but the destination holds " + std::to_string(destination.size()) +
                                            "; pass a larger buffer");
  }
  // A range past the used part of a shorter snapshot reads as zeros there: those
  // bytes are not part of the snapshot.
  auto copy_fields = [&](std::span<const std::byte> payload) {
    std::byte* out = destination.data();
    for (const auto& field : fields) {
      const std::size_t inside =
          field.offset >= payload.size() ? 0 : std::min(field.size, payload.size() - field.offset);
      if (inside > 0)
        copy_range_from_shared(out, payload.data(), field.offset, inside);
      std::memset(out + inside, 0, field.size - inside);
      out += field.size;
    }
  };
  auto call = [](void* context, std::span<const std::byte> payload) {
    (*static_cast<decltype(copy_fields)*>(context))(payload);
  };
  return visit_newest(call, &copy_fields, meta, retries, max_attempts, false);
}

std::uint64_t RegionReader::latest_seq() const noexcept {
  return detail::published_seq(header_->published.load(std::memory_order_acquire));
}

bool RegionReader::publisher_alive() const noexcept {
  if (mapping_->pidfd >= 0) {
    return !detail::pidfd_exited(mapping_->pidfd);
  }
  return detail::process_alive(publisher_pid_, publisher_start_time_);
}

std::optional<std::int64_t> RegionReader::heartbeat_age_ns() const noexcept {
  const std::int64_t beat = header_->heartbeat_ns.load(std::memory_order_acquire);
  // Read after the beat (the acquire keeps the clock read after the load): the
  // publisher stores CLOCK_MONOTONIC of this host, which is above 0 and never ahead
  // of a later reading, so anything else was written by someone else.
  const std::int64_t now_ns = monotonic_ns();
  if (beat <= 0 || beat > now_ns) {
    return std::nullopt;
  }
  return now_ns - beat;
}

bool RegionReader::source_lost() const noexcept {
  return header_->state.load(std::memory_order_acquire) == static_cast<std::uint32_t>(detail::RegionState::source_lost);
}

bool RegionReader::closed() const noexcept {
  return header_->state.load(std::memory_order_acquire) == static_cast<std::uint32_t>(detail::RegionState::closed);
}

bool RegionReader::write_in_progress() const noexcept {
  for (std::uint32_t slot = 0; slot < geometry_.slot_count; ++slot) {
    const auto& slot_header = *reinterpret_cast<const SlotHeader*>(base_ + geometry_.header_size +
                                                                   std::uint64_t{slot} * geometry_.slot_stride);
    if ((slot_header.lock.peek() & 1U) != 0) {
      return true;
    }
  }
  return false;
}

std::string RegionReader::schema_name() const {
  return printable(std::string_view(header_->schema_name, strnlen(header_->schema_name, sizeof header_->schema_name)));
}

std::string_view RegionReader::descriptor() const noexcept {
  return std::string_view(reinterpret_cast<const char*>(base_ + geometry_.descriptor_offset),
                          geometry_.descriptor_size);
}

std::vector<SubscriberRow> RegionReader::subscribers() const {
  const auto* table = reinterpret_cast<const detail::SubscriberEntry*>(base_ + geometry_.table_offset);
  std::vector<SubscriberRow> rows;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    rows.clear();
    const std::uint64_t begin = header_->table_version.read_begin();
    if ((begin & 1U) != 0) {
      std::this_thread::yield();
      continue;
    }
    for (std::uint32_t index = 0; index < geometry_.max_subscribers; ++index) {
      const detail::SubscriberEntry& entry = table[index];
      if (entry.state.load(std::memory_order_relaxed) != static_cast<std::uint32_t>(detail::TableEntryState::active)) {
        continue;
      }
      char id[sizeof entry.id];
      copy_from_shared(id, entry.id, sizeof id);
      SubscriberRow row;
      row.id = printable(std::string_view(id, strnlen(id, sizeof id)));
      row.pid = entry.pid.load(std::memory_order_relaxed);
      row.connected = (entry.flags.load(std::memory_order_relaxed) & table_connected) != 0;
      row.notified = entry.notified.load(std::memory_order_relaxed);
      row.coalesced = entry.coalesced.load(std::memory_order_relaxed);
      row.attached_realtime_ns = entry.attached_realtime_ns.load(std::memory_order_relaxed);
      rows.push_back(std::move(row));
    }
    if (!header_->table_version.read_retry(begin)) {
      break;
    }
  }
  for (SubscriberRow& row : rows) {
    // A socket-mode subscriber is alive while the publisher keeps its connection
    // (an active entry); its pid may be 0 or of another PID namespace.
    row.alive = row.connected || detail::process_alive(row.pid, 0);
  }
  return rows;
}

}  // namespace shmsnap
