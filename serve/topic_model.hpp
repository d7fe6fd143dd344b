// The state of a prefix's topics as the server shows it: one immutable ModelSnapshot
// per sample, made by the TopicSampler thread and shared read-only (shared_ptr to
// const) with the HTTP, metrics and Foxglove code on the I/O thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace shmsnap::serve {

/// One row of a topic's subscriber table.
struct SubscriberState {
  std::string id;
  pid_t pid = 0;
  bool alive = false;
  std::uint64_t notified = 0;
  std::uint64_t coalesced = 0;
};

/// One topic at the instant of a sample.
struct TopicState {
  std::string name;
  std::string region;   ///< "/dev/shm/<prefix>.<topic>", or "DIR/<topic>.sock" in socket mode
  bool valid = false;   ///< the region passed validation
  std::string problem;  ///< why it is invalid or could not be followed
  std::string schema_name;
  std::uint32_t schema_version = 0;
  std::string descriptor;  ///< the embedded descriptor JSON
  /// The descriptor was refused (reason in `problem`): values are not decoded and it
  /// is not parsed again until the topic's publisher (its region) changes.
  bool descriptor_refused = false;
  pid_t publisher_pid = 0;
  bool publisher_up = false;  ///< publisher alive and the topic not shut down
  bool stale = false;         ///< no live publisher: the value shown is the last good one
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  std::uint64_t published_total = 0;
  std::uint64_t coalesced_total = 0;
  std::uint64_t notified_total = 0;             ///< summed over the subscriber table
  double publish_rate_hz = 0;                   ///< PublishRate: from the publisher's seq and stamps
  double publish_rate_window_seconds = 0;       ///< the publish times the rate spans (0 = none yet)
  std::optional<double> snapshot_age_seconds;   ///< since the newest publish; none before the first
  std::optional<double> heartbeat_age_seconds;  ///< never negative: none when the heartbeat is in the future
  /// The header's heartbeat is later than now (a corrupt or tampered header): no age
  /// can be given.
  bool heartbeat_in_future = false;
  std::optional<std::uint64_t> read_retries;  ///< of this server's own subscriber
  std::vector<SubscriberState> subscribers;
  /// The decoded newest value (null before the first publish or when undecodable).
  nlohmann::ordered_json value;
  /// Units and descriptions by field path (SnapshotCodec::field_notes()) of the
  /// descriptor the value was decoded with; null before one was parsed. Shared, not
  /// copied, from one sample to the next.
  std::shared_ptr<const nlohmann::ordered_json> field_notes;
  std::int64_t value_publish_ts_ns = 0;  ///< CLOCK_MONOTONIC of that value's publish
  std::uint64_t value_seq = 0;           ///< 0 = no value yet
};

/// All topics of the prefix at one sample, by name.
struct ModelSnapshot {
  std::string prefix;
  std::int64_t sampled_realtime_ns = 0;
  std::uint64_t sample_number = 0;
  std::uint64_t descriptor_parses = 0;  ///< descriptors the sampler parsed since it started
  std::vector<TopicState> topics;

  /// The topic called `name`, or nullptr.
  [[nodiscard]] const TopicState* find(const std::string& name) const noexcept;
};

/// The topic without its value (the list view and /api/topics).
[[nodiscard]] nlohmann::ordered_json summary_json(const TopicState& topic);
/// The topic's field notes: {"position.x": {"unit": "m", "description": ...}, ...},
/// an empty object when it has none (or no descriptor was parsed yet).
[[nodiscard]] nlohmann::ordered_json field_notes_json(const TopicState& topic);
/// The topic with its value, its field notes ("fields") and descriptor (/api/topics/T).
[[nodiscard]] nlohmann::ordered_json detail_json(const TopicState& topic);
/// {"prefix":..., "sampled_realtime_ns":..., "topics":[summary...]}.
[[nodiscard]] nlohmann::ordered_json topics_json(const ModelSnapshot& model);

}  // namespace shmsnap::serve
