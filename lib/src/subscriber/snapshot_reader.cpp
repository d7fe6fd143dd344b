// The reader (snapshot_reader.hpp): copy the newest snapshot out of the region
// under its seqlock, bounded by the caller's deadline, and fill UpdateInfo.
#include "subscriber/snapshot_reader.hpp"

#include <algorithm>
#include <cstring>
#include <thread>
#include <utility>

#include "shmsnap/clock.hpp"
#include "system/log.hpp"

namespace shmsnap::detail {

SnapshotReader::SnapshotReader(const SchemaInfo* schema, std::string id, std::string topic)
    : fixed_size_(schema != nullptr), id_(std::move(id)), topic_(std::move(topic)) {
  if (schema != nullptr) {
    local_.assign(schema->size, std::byte{0});
  }
}

void SnapshotReader::attached(std::size_t payload_size, std::uint64_t epoch) {
  if (!fixed_size_ && local_.size() != payload_size) {
    local_.assign(payload_size, std::byte{0});
    local_dirty_ = 0;
  }
  last_seq_ = 0;
  info_.stale = false;
  info_.epoch = epoch;
}

SnapshotReader::Outcome SnapshotReader::read_newest(const RegionReader& region, std::int64_t deadline_ns,
                                                    std::uint64_t epoch, bool stalled) noexcept {
  if (region.latest_seq() == last_seq_) {
    return Outcome::nothing;
  }
  SnapshotMeta meta;
  // At least one round, however short the deadline (poll() passes "now").
  for (unsigned round = 0;; ++round) {
    const ReadStatus status = region.try_read(local_, meta, stats_.retries);
    if (status == ReadStatus::ok) {
      break;
    }
    local_dirty_ = local_.size();  // a failed attempt may have copied anything up to the capacity
    if (status == ReadStatus::empty) {
      return Outcome::nothing;
    }
    if (status == ReadStatus::corrupt) {
      return Outcome::corrupt;
    }
    if (status == ReadStatus::inconsistent) {
      // Someone with write access rewrote a slot header: never adopt it. The next
      // publish, into another slot, is read as usual.
      if (stats_.inconsistent++ == 0) {
        log().warn(
            "subscriber '{}' on topic '{}': refused a slot whose header disagrees with the published word "
            "(the region was written by someone other than its publisher); counted in stats().inconsistent",
            id_, topic_);
      }
      return Outcome::nothing;
    }
    // Lapped on every attempt: keep going while the writer lives; a writer that
    // died mid-write never finishes, so stop there.
    if (round % 16 == 15 && !region.publisher_alive()) {
      return Outcome::writer_died;
    }
    if (monotonic_ns() >= deadline_ns) {
      // The caller's deadline holds even against a writer that laps every read;
      // the newest snapshot stays pending (latest_seq != last_seq) for the next call.
      ++stats_.contended;
      return Outcome::nothing;
    }
    std::this_thread::yield();
  }
  if (meta.seq <= last_seq_) {
    return Outcome::nothing;  // a wake-up for a snapshot we already hold
  }
  // A shorter snapshot than the last: what the last left past this one's end is not
  // part of it, so the local state reads as zeros there (the bytes a publish did not
  // write, such as a bounded sequence's unused elements).
  const std::size_t used = std::min<std::size_t>(local_.size(), meta.used_bytes);
  if (local_dirty_ > used) {
    std::memset(local_.data() + used, 0, local_dirty_ - used);
  }
  local_dirty_ = used;
  info_.used_bytes = used;
  info_.skipped = last_seq_ == 0 ? 0 : meta.seq - last_seq_ - 1;
  stats_.skipped += info_.skipped;
  last_seq_ = meta.seq;
  info_.seq = meta.seq;
  info_.publish_ts_ns = meta.publish_ts_ns;
  info_.receive_ts_ns = monotonic_ns();
  info_.epoch = epoch;
  info_.stale = stalled;
  has_value_ = true;
  ++stats_.delivered;
  return Outcome::delivered;
}

}  // namespace shmsnap::detail
