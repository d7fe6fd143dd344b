// Byte layout of a snapshot region (/<prefix>:<topic>). Written by exactly one
// publisher (mapped read-write); read by subscribers and tools (PROT_READ) that
// validate every field below before touching a payload (region.cpp).
//
//  offset  size  field
//  ------  ----  ---------------------------------------------------------------
//       0     4  magic "SNP1"            stored last at creation (release)
//       4     4  layout_version          read first after magic
//       8     8  header_size             bytes before slot 0, multiple of 64
//      16     8  region_size             must equal the file size
//      24     4  slot_count              1..max_slot_count
//      28     4  slot_stride             64 + payload rounded up to 64
//      32     4  payload_size            sizeof the writer's snapshot type
//      36     4  max_subscribers         entries in the subscriber table
//      40     8  schema_fingerprint
//      48     4  schema_version
//      52     4  descriptor_size         bytes of JSON at descriptor_offset
//      56    64  schema_name             NUL-terminated
//     120     4  publisher_pid
//     124     4  (reserved)
//     128     8  publisher_start_time    /proc/<pid>/stat starttime: pid-reuse guard
//     136     8  epoch                   +1 each time a dead publisher's topic is taken over
//     144     8  created_realtime_ns
//     152     8  subscriber_table_offset
//     160     8  descriptor_offset
//     168    24  (reserved)
//     192    64  liveness line: heartbeat_ns (atomic), state (atomic), counters
//     256    64  published line: (latest seq << 8 | slot index), atomic, 0 = none yet
//     320    64  table line: table_version, a seqlock over the subscriber table
//     384     .  subscriber table: max_subscribers x 128 bytes
//       .     .  descriptor JSON, padded to 64
//  header_size   slot 0: [seqlock | publish seq | publish ts | pad] 64 B, payload
//       .        slot 1 .. slot_count-1
//
// The published word sits in the header at a fixed offset (DESIGN.md puts it after
// the slots): a reader finds it without trusting any size from the header.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shmsnap/seqlock.hpp"

namespace shmsnap::detail {

inline constexpr std::uint32_t region_magic = 0x31504e53;  // "SNP1" little-endian
inline constexpr std::uint32_t region_layout_version = 1;
inline constexpr std::uint32_t max_slot_count = 255;  // slot index fits 8 bits
inline constexpr std::uint32_t max_table_entries = 4096;
inline constexpr std::uint32_t max_descriptor_size = 256 * 1024;
inline constexpr std::uint64_t max_payload_size = 1ULL << 30;
inline constexpr std::size_t cache_line = 64;

enum class RegionState : std::uint32_t { live = 1, closed = 2 };
enum class TableEntryState : std::uint32_t { free = 0, active = 1 };

/// One subscriber as the publisher sees it, mirrored for tools (shmsnap list).
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

/// Per-slot line: the seqlock and the metadata written inside its critical section.
struct alignas(cache_line) SlotHeader {
  Seqlock lock;
  std::atomic<std::uint64_t> publish_seq;
  std::atomic<std::int64_t> publish_ts_ns;
};
static_assert(sizeof(SlotHeader) == cache_line);

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
  std::uint64_t reserved1[3];

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
static_assert(offsetof(RegionHeader, heartbeat_ns) == 192);
static_assert(offsetof(RegionHeader, state) == 200);
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
