// The publisher's side of a region: create it (taking over a dead publisher's, or
// as a sealed memfd in socket mode), initialise the header, and hand out slots. Owned by one Publisher; its methods
// are called from the publishing thread, except where noted.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "region/shared_memory.hpp"
#include "shmsnap/detail/region_layout.hpp"
#include "shmsnap/schema.hpp"

namespace shmsnap::detail {

struct RegionSpec {
  std::string shm_name;
  std::string topic;
  mode_t mode = 0640;
  std::uint32_t slot_count = 3;
  std::uint32_t max_subscribers = 64;
  std::uint32_t payload_size = 0;
  SchemaInfo schema;
  std::uint64_t origin_id = 0;  ///< PublisherOptions::origin_id
};

/// What the creator learned about a dead publisher's region it replaced.
struct PreviousOwner {
  bool existed = false;
  bool trusted = false;  ///< owned by this user or root: only then are its epoch and table used
  uid_t owner = 0;
  pid_t pid = 0;
  std::uint64_t epoch = 0;
  struct Subscriber {
    std::string id;
    pid_t pid = 0;
  };
  std::vector<Subscriber> subscribers;  ///< entries that were active in its table
};

// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions): the move operations delete copying
class RegionWriter {
 public:
  /// Creates the region exclusively; a dead publisher's region is replaced (new
  /// epoch, see next_epoch), a live one's is refused with Errc::busy naming its pid.
  /// Throws Error.
  [[nodiscard]] static RegionWriter create(const RegionSpec& spec, PreviousOwner& previous);

  /// Socket mode: creates the region as an anonymous memfd (no name, so nothing to
  /// take over or squat), sized and initialised as create() does, sealed before any
  /// descriptor leaves this process (SharedMemory::seal) while this writer keeps its
  /// writable mapping. `epoch` (>= 1) is the caller's: there is no predecessor's
  /// header to read it from. spec.shm_name is only a label. Throws Error.
  [[nodiscard]] static RegionWriter create_sealed(const RegionSpec& spec, std::uint64_t epoch);

  /// The epoch after `previous`: its epoch + 1 when its region was trusted, else 1
  /// (a squatter's header says nothing), and 1 again instead of wrapping past 2^64-1.
  [[nodiscard]] static std::uint64_t next_epoch(const PreviousOwner& previous) noexcept;

  /// An empty writer that owns nothing (assign from create()).
  RegionWriter() = default;
  RegionWriter(RegionWriter&&) noexcept;
  RegionWriter& operator=(RegionWriter&&) noexcept;
  /// Unlinks and unmaps if still owned (see close()).
  ~RegionWriter();

  /// Marks the region closed, removes its name and unmaps it. Idempotent.
  void close() noexcept;

  [[nodiscard]] RegionHeader& header() noexcept { return *header_; }
  [[nodiscard]] SlotHeader& slot(std::uint32_t index) noexcept;
  [[nodiscard]] std::byte* payload(std::uint32_t index) noexcept;
  [[nodiscard]] SubscriberEntry& entry(std::uint32_t index) noexcept;
  /// The writer's own copy of slot `index`'s seqlock word (publishing thread only).
  [[nodiscard]] std::uint64_t& slot_sequence(std::uint32_t index) noexcept;
  /// The writer's own copy of the table seqlock word (control thread only).
  [[nodiscard]] std::uint64_t& table_sequence() noexcept { return table_sequence_; }
  [[nodiscard]] const std::string& name() const noexcept { return memory_.name(); }
  /// The region's descriptor (socket mode: what subscribers receive over SCM_RIGHTS;
  /// sealed, so they can map it read-only only). -1 when this writer owns nothing.
  [[nodiscard]] int descriptor() const noexcept { return memory_.native_handle(); }
  /// The epoch this writer stamped (its own copy, never read back from the region).
  [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_; }

 private:
  void initialise(const RegionSpec& spec, std::uint64_t epoch, std::uint64_t size);

  SharedMemory memory_;
  RegionHeader* header_ = nullptr;
  std::byte* base_ = nullptr;
  bool owned_ = false;
  // Geometry and seqlock words as this writer laid them out. The region's copies
  // are for readers: anyone with write access could rewrite those, so the writer
  // never reads them back to find an address or its next sequence.
  std::uint64_t header_size_ = 0;
  std::uint32_t slot_stride_ = 0;
  std::uint32_t slot_count_ = 0;
  std::uint32_t max_subscribers_ = 0;
  std::vector<std::uint64_t> slot_sequences_;
  std::uint64_t table_sequence_ = 0;
  std::uint64_t epoch_ = 0;
};

}  // namespace shmsnap::detail
