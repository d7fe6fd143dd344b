// Byte layout of a snapshot region (/<prefix>:<topic> in /dev/shm). Written by
// exactly one publisher (mapped read-write); read by subscribers and tools
// (PROT_READ) that validate every field before touching a payload (lib/src/region/region_validation.cpp).
// This comment is the byte layout. A reader in another language needs two more pages:
// docs/FORMAT.md (names, owner trust and opening, the read procedure's bounds,
// takeover, the queue messages, the fingerprint text, values as JSON) and
// schemas/README.md, "Descriptor" (the descriptor JSON).
//
// Byte order and clocks: every integer is the host's byte order (little-endian on
// x86-64 and arm64; regions never leave the host). Timestamps named *_ns are
// CLOCK_MONOTONIC nanoseconds (comparable across processes of one boot), except
// *_realtime_ns (CLOCK_REALTIME, for display). Atomic fields are naturally aligned
// 32/64-bit words; read them with atomic loads.
//
// HEADER (offsets from the start of the file)
//  offset  size  field
//  ------  ----  ---------------------------------------------------------------
//       0     4  magic "SNP1"            0x31504e53; stored last at creation (release)
//       4     4  layout_version          2; read first after magic (1: before used_bytes)
//       8     8  header_size             bytes before slot 0 = round64(descriptor_offset + descriptor_size)
//      16     8  region_size             = header_size + slot_count * slot_stride = the file size
//      24     4  slot_count              2..255
//      28     4  slot_stride             64 + round64(payload_size)
//      32     4  payload_size            sizeof the writer's snapshot type, 1..2^30
//      36     4  max_subscribers         entries in the subscriber table, 1..4096
//      40     8  schema_fingerprint      64-bit hash of the canonical layout
//      48     4  schema_version
//      52     4  descriptor_size         bytes of JSON at descriptor_offset, <= 256 KiB
//      56    64  schema_name             NUL-terminated (outside input: escape before printing)
//     120     4  publisher_pid
//     124     4  (reserved, 0)
//     128     8  publisher_start_time    /proc/<pid>/stat field 22: guards against pid reuse
//     136     8  epoch                   +1 each time a dead publisher's topic is taken over;
//                                        1 again after an untrusted owner's region or 2^64-1
//     144     8  created_realtime_ns
//     152     8  subscriber_table_offset = 384
//     160     8  descriptor_offset       = 384 + max_subscribers * 128
//     168     8  origin_id               0: published on this host. Else a bridge importer republishes
//                                        the topic from another host, and this names that host
//                                        (a hash of its name, never 0): exporters refuse it (loops)
//     176    16  (reserved, 0)
//     192     8  heartbeat_ns            atomic; the publisher's control thread stores it
//                                        every heartbeat_interval (100 ms by default)
//     200     4  state                   atomic; 1 live, 2 closed (shut down cleanly), 3 source lost
//     204     4  (reserved)
//     208     8  published_count         atomic totals mirrored for tools
//     216     8  coalesced_count
//     224     8  reclaimed_count
//     232    24  (reserved)
//     256     8  published               atomic word: (seq << 8) | slot index; 0 = nothing yet
//     264    56  (reserved: the word has its cache line to itself)
//     320     8  table_version           a seqlock over the subscriber table (odd while edited)
//     328    56  (reserved)
//     384     .  subscriber table: max_subscribers entries of 128 bytes (below)
//       .     .  descriptor JSON (descriptor_size bytes), zero padding to header_size
//
// SUBSCRIBER TABLE ENTRY (128 bytes; mirrored by the publisher for tools)
//       0    48  id                      NUL-terminated [A-Za-z0-9_.-]
//      48     4  pid                     atomic
//      52     4  state                   atomic; 0 free, 1 active
//      56     8  attached_realtime_ns    atomic
//      64     8  notified                atomic; UPDATEs enqueued
//      72     8  coalesced               atomic; UPDATEs folded into a pending one
//      80     4  flags                   atomic; HelloFlags
//      84    44  (reserved)
//
// SLOT i starts at header_size + i * slot_stride:
//       0     8  sequence                the slot's seqlock: odd while written, even at rest
//       8     8  publish_seq             the publish it holds (0: none)
//      16     8  publish_ts_ns           CLOCK_MONOTONIC at publish
//      24     8  used_bytes              how much of the payload this publish wrote, 0..payload_size;
//                                        the bytes after it are unspecified (not part of the snapshot)
//      32    32  (reserved)
//      64     .  payload (payload_size bytes, then padding to slot_stride)
//
// READING the newest snapshot:
//   1. w = load_acquire(published); w == 0: nothing published yet.
//   2. slot = w & 0xff (>= slot_count: corrupt); s = load_acquire(slot.sequence);
//      s odd: retry from 1.
//   3. u = load(slot.used_bytes); copy the first u payload bytes, but none when
//      u > payload_size; load publish_seq and publish_ts_ns; acquire fence;
//      reload slot.sequence: != s means the writer lapped the copy: retry from 1.
//      A stable u > payload_size was never written by the publisher: refuse it.
//   4. publish_seq must equal w >> 8: the writer may have reused the slot for a newer
//      publish between the loads of steps 1 and 2 (retry from 1); a publish_seq above
//      the newest announced one + 1 was never written by the publisher (refuse it).
//   docs/FORMAT.md, "Reading the newest snapshot": which load is the newest announced
//   one, and how many retries to make.
// seq orders snapshots within one epoch and restarts at 1 in each. The epoch never wraps: a publisher taking over a
// region whose owner readers do not trust (a squatter's), or whose epoch is at its maximum, starts again at 1. Each
// incarnation is a new region file, and subscribers report the change as StatusEvent::reattached, so readers compare
// epochs across it for equality only. The writer keeps each slot's sequence and the geometry in its own memory and
// never reads them back from the region.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shmsnap/seqlock.hpp"

namespace shmsnap::detail {

inline constexpr std::uint32_t region_magic = 0x31504e53;  // "SNP1" little-endian
inline constexpr std::uint32_t region_layout_version = 2;
inline constexpr std::uint32_t max_slot_count = 255;  // slot index fits 8 bits
inline constexpr std::uint32_t max_table_entries = 4096;
inline constexpr std::uint32_t max_descriptor_size = 256 * 1024;
inline constexpr std::uint64_t max_payload_size = 1ULL << 30;
inline constexpr std::size_t cache_line = 64;
/// Mode bits that let users other than the owner write a region or a reader's
/// queue: refused on create and on open. A writer could truncate a region under
/// its publisher (SIGBUS) or forge snapshots; a topic is shared by read bits only.
inline constexpr unsigned writable_by_others = 0022;

/// The region's state word. source_lost: the publisher lives but republishes a
/// source that is gone (a bridge importer whose origin stopped): the state is stale.
enum class RegionState : std::uint32_t { live = 1, closed = 2, source_lost = 3 };
enum class TableEntryState : std::uint32_t { free = 0, active = 1 };

/// One subscriber as the publisher sees it, mirrored for tools (shmsnap list).
// NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): mapped bytes, never constructed
struct alignas(8) SubscriberEntry {
  char id[48];
  std::atomic<std::int32_t> pid;
  std::atomic<std::uint32_t> state;  // TableEntryState
  std::atomic<std::int64_t> attached_realtime_ns;
  std::atomic<std::uint64_t> notified;   // UPDATEs delivered to its queue
  std::atomic<std::uint64_t> coalesced;  // UPDATEs folded into a pending one (EAGAIN)
  std::atomic<std::uint32_t> flags;      // HelloFlags
  std::uint32_t reserved0;
  std::uint64_t reserved[5];
};
static_assert(sizeof(SubscriberEntry) == 128);
static_assert(offsetof(SubscriberEntry, id) == 0);
static_assert(offsetof(SubscriberEntry, pid) == 48);
static_assert(offsetof(SubscriberEntry, state) == 52);
static_assert(offsetof(SubscriberEntry, attached_realtime_ns) == 56);
static_assert(offsetof(SubscriberEntry, notified) == 64);
static_assert(offsetof(SubscriberEntry, coalesced) == 72);
static_assert(offsetof(SubscriberEntry, flags) == 80);

/// Per-slot line: the seqlock and the metadata written inside its critical section.
struct alignas(cache_line) SlotHeader {
  Seqlock lock;
  std::atomic<std::uint64_t> publish_seq;
  std::atomic<std::int64_t> publish_ts_ns;
  std::atomic<std::uint64_t> used_bytes;  // of the payload; at most the region's payload_size
};
static_assert(sizeof(SlotHeader) == cache_line);
static_assert(offsetof(SlotHeader, lock) == 0);
static_assert(offsetof(SlotHeader, publish_seq) == 8);
static_assert(offsetof(SlotHeader, publish_ts_ns) == 16);
static_assert(offsetof(SlotHeader, used_bytes) == 24);

// NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): mapped bytes, never constructed
struct RegionHeader {
  std::atomic<std::uint32_t> magic;
  std::uint32_t layout_version;
  std::uint64_t header_size;
  std::uint64_t region_size;
  std::uint32_t slot_count;
  std::uint32_t slot_stride;
  std::uint32_t payload_size;
  std::uint32_t max_subscribers;
  std::uint64_t schema_fingerprint;
  std::uint32_t schema_version;
  std::uint32_t descriptor_size;
  char schema_name[64];
  std::int32_t publisher_pid;
  std::uint32_t reserved0;
  std::uint64_t publisher_start_time;
  std::uint64_t epoch;
  std::int64_t created_realtime_ns;
  std::uint64_t subscriber_table_offset;
  std::uint64_t descriptor_offset;
  std::uint64_t origin_id;  // 0: this host's own topic
  std::uint64_t reserved1[2];

  // Liveness line: written by the publisher's control thread.
  alignas(cache_line) std::atomic<std::int64_t> heartbeat_ns;
  std::atomic<std::uint32_t> state;  // RegionState
  std::uint32_t reserved2;
  std::atomic<std::uint64_t> published_count;  // mirrored totals for tools
  std::atomic<std::uint64_t> coalesced_count;
  std::atomic<std::uint64_t> reclaimed_count;

  // Published line: the one word readers poll; its own line so spinning readers
  // do not contend with the heartbeat.
  alignas(cache_line) std::atomic<std::uint64_t> published;

  // Table line: odd while the control thread edits ids/pids in the table.
  alignas(cache_line) Seqlock table_version;
};

static_assert(offsetof(RegionHeader, magic) == 0);
static_assert(offsetof(RegionHeader, layout_version) == 4);
static_assert(offsetof(RegionHeader, header_size) == 8);
static_assert(offsetof(RegionHeader, region_size) == 16);
static_assert(offsetof(RegionHeader, slot_count) == 24);
static_assert(offsetof(RegionHeader, slot_stride) == 28);
static_assert(offsetof(RegionHeader, payload_size) == 32);
static_assert(offsetof(RegionHeader, max_subscribers) == 36);
static_assert(offsetof(RegionHeader, schema_fingerprint) == 40);
static_assert(offsetof(RegionHeader, schema_version) == 48);
static_assert(offsetof(RegionHeader, descriptor_size) == 52);
static_assert(offsetof(RegionHeader, schema_name) == 56);
static_assert(offsetof(RegionHeader, publisher_pid) == 120);
static_assert(offsetof(RegionHeader, publisher_start_time) == 128);
static_assert(offsetof(RegionHeader, epoch) == 136);
static_assert(offsetof(RegionHeader, created_realtime_ns) == 144);
static_assert(offsetof(RegionHeader, subscriber_table_offset) == 152);
static_assert(offsetof(RegionHeader, descriptor_offset) == 160);
static_assert(offsetof(RegionHeader, origin_id) == 168);
static_assert(offsetof(RegionHeader, heartbeat_ns) == 192);
static_assert(offsetof(RegionHeader, state) == 200);
static_assert(offsetof(RegionHeader, published_count) == 208);
static_assert(offsetof(RegionHeader, coalesced_count) == 216);
static_assert(offsetof(RegionHeader, reclaimed_count) == 224);
static_assert(offsetof(RegionHeader, published) == 256);
static_assert(offsetof(RegionHeader, table_version) == 320);
static_assert(sizeof(RegionHeader) == 384);

/// Round `value` up to a multiple of the cache line.
constexpr std::uint64_t round_to_line(std::uint64_t value) noexcept {
  return (value + cache_line - 1) / cache_line * cache_line;
}

/// Packs the published word: sequence in the high 56 bits, slot in the low 8.
constexpr std::uint64_t pack_published(std::uint64_t seq, std::uint32_t slot) noexcept {
  return (seq << 8) | slot;
}
constexpr std::uint64_t published_seq(std::uint64_t word) noexcept {
  return word >> 8;
}
constexpr std::uint32_t published_slot(std::uint64_t word) noexcept {
  return static_cast<std::uint32_t>(word & 0xFF);
}

}  // namespace shmsnap::detail
