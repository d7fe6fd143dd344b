// Read-only access to a topic's snapshot region, for subscribers and tools.
// Opening validates the whole header (magic, version, sizes against the file,
// slot bounds) before any payload is touched; a region that fails is an Error,
// never a crash. A RegionReader is used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "shmsnap/detail/region_layout.hpp"

namespace shmsnap {

/// What a reader learns about the snapshot it copied.
struct SnapshotMeta {
  std::uint64_t seq = 0;           ///< publish sequence, 1 for the first publish
  std::int64_t publish_ts_ns = 0;  ///< CLOCK_MONOTONIC when the publisher wrote it
  std::uint64_t used_bytes = 0;    ///< how much of the payload the publish wrote (<= payload_size)
};

/// Outcome of one read attempt.
enum class ReadStatus {
  ok,            ///< a consistent snapshot was copied
  empty,         ///< the publisher has not published yet
  contended,     ///< the writer lapped the reader on every attempt; try again
  corrupt,       ///< the published index points outside the region, or the used length past the capacity
  inconsistent,  ///< the slot claims a publish the published word never announced: refused
};

/// A byte range of the payload, for RegionReader::read_fields (e.g. a schema field's
/// offset and size).
struct FieldRange {
  std::size_t offset = 0;
  std::size_t size = 0;
};

/// One row of the subscriber table the publisher mirrors into the region.
struct SubscriberRow {
  std::string id;
  pid_t pid = 0;
  bool alive = false;
  bool connected = false;  ///< attached over the publisher's socket (pid may be 0: another PID namespace)
  std::uint64_t notified = 0;
  std::uint64_t coalesced = 0;
  std::int64_t attached_realtime_ns = 0;
};

/// The sizes and offsets of a region, as validation checked them. Readers use this
/// copy only: the live header could be rewritten after it was checked.
struct RegionGeometry {
  std::uint64_t region_size = 0;
  std::uint64_t header_size = 0;  ///< slots start here
  std::uint32_t slot_count = 0;
  std::uint32_t slot_stride = 0;  ///< SlotHeader + payload rounded up to a cache line
  std::uint32_t payload_size = 0;
  std::uint32_t max_subscribers = 0;
  std::uint64_t table_offset = 0;
  std::uint64_t descriptor_offset = 0;
  std::uint32_t descriptor_size = 0;
};

/// What validating a region's bytes found: the geometry of a valid region, or why
/// the bytes are not one.
struct RegionValidation {
  std::optional<RegionGeometry> geometry;  ///< set exactly when the region is valid
  std::string problem;                     ///< the reason, when geometry is empty

  [[nodiscard]] bool valid() const noexcept { return geometry.has_value(); }
};

/// Whose regions a reader accepts. Whoever creates a name in /dev/shm first owns
/// it, so a reader that trusted any owner would follow a squatter's region. By
/// default: the reader's own user and root.
struct TrustedOwners {
  std::vector<uid_t> also;  ///< further users whose publishers are trusted
  bool anyone = false;      ///< accept every owner (inspection tools that decide nothing)

  /// True when a region owned by `owner` may be read.
  [[nodiscard]] bool trusts(uid_t owner) const noexcept;
};

/// The user name of `uid` ("uid 1001" when it has none), for messages.
[[nodiscard]] std::string user_name(uid_t uid);
/// The login name of `uid`, or the uid as text when it has none (for --trust-owner).
[[nodiscard]] std::string login_name(uid_t uid);

// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions): the move operations delete copying
class RegionReader {
 public:
  RegionReader(RegionReader&&) noexcept;
  RegionReader& operator=(RegionReader&&) noexcept;
  ~RegionReader();

  /// Opens `shm_name` ("/<prefix>:<topic>") read-only and validates it. Throws Error:
  /// not_found, permission_denied (also for an owner outside `trusted`, naming the
  /// owner and how to trust it, and for a region that users other than its owner may
  /// write, unless `trusted.anyone`), invalid_region (the reason and what to do).
  [[nodiscard]] static RegionReader open(const std::string& shm_name, const TrustedOwners& trusted = {});

  /// Socket mode: maps the sealed region descriptor `region` (owned from here on,
  /// closed on every failure) that a publisher sent with its WELCOME, after checking
  /// that it is a sealed memfd of exactly `region_size` bytes, and validates it as
  /// open() does. `liveness` (owned) is the connection to that publisher: the
  /// publisher counts as alive until it turns readable (EOF or a BYE), since its pid
  /// may lie in a PID namespace this process cannot see. `owner` is the publisher's
  /// uid as SO_PEERCRED showed it; `label` names the region in messages. Throws
  /// Error (invalid_region: the reason, naming `label`).
  [[nodiscard]] static RegionReader adopt_sealed(int region, std::uint64_t region_size, int liveness, uid_t owner,
                                                 const std::string& label);

  /// Checks `bytes` (a whole region file of `file_size` bytes; nullptr when empty).
  /// Pure: reads nothing but the given bytes, and each header field once, so the
  /// geometry it returns is exactly what it checked.
  [[nodiscard]] static RegionValidation validate(const std::byte* bytes, std::uint64_t file_size);

  /// Copies the newest snapshot's first `destination.size()` bytes (at most its used
  /// length, meta.used_bytes) under the slot's seqlock, making up to `max_attempts`
  /// tries. Bytes of `destination` past the used length are left as they were, except
  /// that bytes an attempt of this call copied there are zeroed again.
  /// `retries` grows by the attempts that raced the writer. Never blocks.
  ReadStatus try_read(std::span<std::byte> destination, SnapshotMeta& meta, std::uint64_t& retries,
                      unsigned max_attempts = 64) const noexcept;

  /// Setup-time convenience for tools: a copy of the newest snapshot's used bytes
  /// (nullopt before the first publish; pad it to payload_size() with zeros to decode
  /// it as the schema's layout), retrying while the writer laps the read. Throws Error:
  /// invalid_region (a corrupt or inconsistent slot, or a file truncated below the
  /// validated size), timed_out (lapped every time).
  [[nodiscard]] std::optional<std::vector<std::byte>> read_newest(SnapshotMeta& meta) const;

  /// Zero-copy read: calls `visitor(std::span<const std::byte> payload)` on the newest
  /// snapshot's used bytes where they lie in the shared mapping, then validates with the slot's
  /// seqlock. ok: the visitor's last call saw a consistent snapshot (meta says which).
  /// When a writer overlapped the call, the visit is void and is retried, up to
  /// `max_attempts` calls in all (contended after that; pass 1 to be told instead of
  /// retried). empty/corrupt: the visitor was not called.
  ///
  /// The rules for the visitor, because it may see a snapshot being overwritten:
  /// - it may be called several times; each call must start from scratch (overwrite
  ///   its outputs, never accumulate);
  /// - nothing it computed may be acted on before read_in_place returns ok: no I/O,
  ///   no messages, no shared state, no exceptions as control flow;
  /// - it must keep no pointer or reference into `payload` past its return;
  /// - a value read from the payload may be garbage until validated: bound-check any
  ///   index or size before using it to address memory, and never follow a pointer;
  /// - it should be short (a few fields): a writer that laps it makes it start over.
  /// The visitor's reads race the writer's stores as a seqlock's always do; the
  /// result of a racing call is discarded. TSan builds suppress race reports inside
  /// the visitor only (the seqlock protocol around it is still checked).
  template <class Visitor>
  ReadStatus read_in_place(Visitor&& visitor, SnapshotMeta& meta, std::uint64_t& retries,
                           unsigned max_attempts = 64) const {
    auto call = [](void* context, std::span<const std::byte> payload) {
      (*static_cast<std::remove_reference_t<Visitor>*>(context))(payload);
    };
    return visit_newest(call, static_cast<void*>(&visitor), meta, retries, max_attempts, true);
  }

  /// Copies only the byte ranges `fields` of the newest snapshot, back to back, into
  /// `destination` under the slot's seqlock (as try_read, without copying the rest);
  /// the part of a range past the snapshot's used length reads as zeros.
  /// Throws Error(invalid_argument) when a range lies outside the payload or the
  /// ranges do not fit `destination`; otherwise as try_read.
  ReadStatus read_fields(std::span<const FieldRange> fields, std::span<std::byte> destination, SnapshotMeta& meta,
                         std::uint64_t& retries, unsigned max_attempts = 64) const;

  /// True while the file still has the size validated at open (one fstat): a
  /// truncated region would fault (SIGBUS) on the pages it lost. Tools ask before
  /// they read; the hot path does not.
  [[nodiscard]] bool file_intact() const;

  /// Sequence of the newest publish, 0 before the first. One acquire load.
  [[nodiscard]] std::uint64_t latest_seq() const noexcept;
  /// True while the publisher named in the header at open runs (its pidfd where the
  /// kernel has one, else its pid and start time): a later rewrite of the header
  /// cannot point this at another process.
  [[nodiscard]] bool publisher_alive() const noexcept;
  /// True while a live publisher says its own source is gone (the state is stale).
  [[nodiscard]] bool source_lost() const noexcept;
  /// True once the publisher has shut the topic down cleanly.
  [[nodiscard]] bool closed() const noexcept;
  /// A slot's seqlock is odd: a write is in progress (or the writer died in one).
  [[nodiscard]] bool write_in_progress() const noexcept;

  [[nodiscard]] const detail::RegionHeader& header() const noexcept { return *header_; }
  /// The header's schema name, escaped with printable(): a region is outside input.
  [[nodiscard]] std::string schema_name() const;
  [[nodiscard]] std::string_view descriptor() const noexcept;
  /// The epoch and publisher pid as validated at open (copies, never the live header).
  [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_; }
  [[nodiscard]] pid_t publisher_pid() const noexcept { return publisher_pid_; }
  /// 0: a topic of this host; else the id of the host a bridge importer republishes
  /// it from (PublisherOptions::origin_id), as read at open.
  [[nodiscard]] std::uint64_t origin_id() const noexcept { return origin_id_; }
  /// The region file's owner, as checked against TrustedOwners at open.
  [[nodiscard]] uid_t owner() const noexcept { return owner_; }
  /// Age of the publisher's heartbeat now (CLOCK_MONOTONIC), or nullopt when the
  /// value cannot be a heartbeat of a live publisher on this host: ahead of now, or
  /// not positive (rewritten by someone with write access). Never negative; callers
  /// treat nullopt as "not beating".
  [[nodiscard]] std::optional<std::int64_t> heartbeat_age_ns() const noexcept;
  [[nodiscard]] std::uint32_t payload_size() const noexcept { return geometry_.payload_size; }
  [[nodiscard]] ino_t inode() const noexcept { return inode_; }
  /// The region file's group: the group a topic is shared with (mode 0640).
  [[nodiscard]] gid_t group() const noexcept { return group_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The active entries of the subscriber table (consistent copy).
  [[nodiscard]] std::vector<SubscriberRow> subscribers() const;

 private:
  struct Mapping;
  explicit RegionReader(std::unique_ptr<Mapping> mapping);
  /// Takes the validated mapping and the header fields that identify its publisher.
  static RegionReader from_validated(std::unique_ptr<Mapping> mapping, const RegionGeometry& geometry,
                                     const std::string& name);

  using VisitCall = void (*)(void* context, std::span<const std::byte> payload);
  /// The seqlock loop of read_in_place and read_fields, type-erased so it lives in
  /// region_reader.cpp. `plain_reads`: the call reads the mapping with plain loads (TSan is
  /// told to ignore them); false when it copies through copy_from_shared.
  ReadStatus visit_newest(VisitCall call, void* context, SnapshotMeta& meta, std::uint64_t& retries,
                          unsigned max_attempts, bool plain_reads) const;

  std::unique_ptr<Mapping> mapping_;
  RegionGeometry geometry_;  // from validation; the live header is never trusted for bounds
  const detail::RegionHeader* header_ = nullptr;
  const std::byte* base_ = nullptr;
  ino_t inode_ = 0;
  gid_t group_ = 0;
  uid_t owner_ = 0;
  pid_t publisher_pid_ = 0;
  std::uint64_t publisher_start_time_ = 0;
  std::uint64_t epoch_ = 0;
  std::uint64_t origin_id_ = 0;
  std::string name_;
};

}  // namespace shmsnap
