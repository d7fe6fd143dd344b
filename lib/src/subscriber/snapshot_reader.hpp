// A subscriber's reader: the seqlock read of the newest snapshot out of a region
// into the local copy, and what the caller sees of it: bytes(), has_value(),
// info() (UpdateInfo) and stats() (SubscriberStats). Owns those; the engine hands
// it the region to read and tells it of attaches and status changes. Used on the
// subscriber's thread; read_newest is the hot path (no allocation, no virtual call).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "shmsnap/region.hpp"
#include "shmsnap/schema.hpp"
#include "shmsnap/subscriber.hpp"

namespace shmsnap::detail {

class SnapshotReader {
 public:
  /// What read_newest found.
  enum class Outcome {
    delivered,    ///< a newer snapshot is in bytes() and info()
    nothing,      ///< nothing newer (or refused, or the deadline passed: counted in stats)
    corrupt,      ///< the region published an index outside itself
    writer_died,  ///< lapped on every attempt by a writer that is gone
  };

  /// `schema` (nullptr: any; the local copy then follows the region's payload size).
  /// `id` and `topic` name the subscriber in the log.
  SnapshotReader(const SchemaInfo* schema, std::string id, std::string topic);

  /// Copies the newest snapshot of `region` under its seqlock: at least one round,
  /// retried while the writer laps it until `deadline_ns`. `epoch` and `stalled` go
  /// into info().
  [[nodiscard]] Outcome read_newest(const RegionReader& region, std::int64_t deadline_ns, std::uint64_t epoch,
                                    bool stalled) noexcept;
  /// Whether `region` published past what this reader holds (one load; spin mode).
  [[nodiscard]] bool has_news(const RegionReader& region) const noexcept { return region.latest_seq() != last_seq_; }

  /// A region was attached: its sequence starts anew; a schema-less reader's copy
  /// takes the region's payload size.
  void attached(std::size_t payload_size, std::uint64_t epoch);
  /// The state turned stale or fresh (info().stale).
  void mark_stale(bool stale) noexcept { info_.stale = stale; }
  void count_wakeup() noexcept { ++stats_.wakeups; }
  void count_reattach() noexcept { ++stats_.reattached; }
  void count_retries(std::uint64_t retries) noexcept { stats_.retries += retries; }

  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return local_; }
  [[nodiscard]] bool has_value() const noexcept { return has_value_; }
  [[nodiscard]] const UpdateInfo& info() const noexcept { return info_; }
  [[nodiscard]] const SubscriberStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_seq_; }

 private:
  bool fixed_size_;               // a typed reader: the copy keeps the schema's size
  std::vector<std::byte> local_;  // the local state; reallocated only for schema-less readers
  std::size_t local_dirty_ = 0;   // bytes of local_ that may be non-zero (past them: zeros)
  std::string id_;
  std::string topic_;
  bool has_value_ = false;
  std::uint64_t last_seq_ = 0;
  UpdateInfo info_;
  SubscriberStats stats_;
};

}  // namespace shmsnap::detail
