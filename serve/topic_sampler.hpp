// TopicSampler: the server's only reader of shared memory. Its own thread scans the
// prefix for topics (in socket mode: the sockets of a directory), reads each region's
// header and subscriber table (RegionReader; in socket mode the region its subscriber
// received), and follows each live topic as an ordinary conflating subscriber
// (UntypedSubscriber with schema == nullptr) whose bytes SnapshotCodec decodes. It never blocks a
// publisher: a full notify queue only makes the publisher coalesce. Every period it
// publishes an immutable ModelSnapshot: latest() from any thread, and a listener
// called on the sampler thread (which must only hand the snapshot on, e.g. post it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "field_history.hpp"
#include "shmsnap/region.hpp"
#include "topic_model.hpp"

namespace shmsnap::serve {

class TopicSampler {
 public:
  using Listener = std::function<void(std::shared_ptr<const ModelSnapshot>)>;

  /// Validates `prefix` (resolved like the other tools) and starts the thread. A
  /// non-empty `socket_dir` is socket mode: the topics are its DIR/<topic>.sock.
  /// Throws Error{invalid_argument} for a bad prefix.
  TopicSampler(std::string_view prefix, std::string socket_dir, std::chrono::milliseconds period, Listener listener);
  /// Stops the thread; the followed topics' subscribers say BYE and unlink their queues.
  ~TopicSampler();
  TopicSampler(const TopicSampler&) = delete;
  TopicSampler& operator=(const TopicSampler&) = delete;

  /// The newest sample (never null: an empty one before the first). Any thread.
  [[nodiscard]] std::shared_ptr<const ModelSnapshot> latest() const;
  /// The recorded history of `topic`'s numeric fields over the last `window`
  /// (FieldHistory::to_json, plus "topic"), or nullopt for a topic not followed. Any thread.
  [[nodiscard]] std::optional<nlohmann::ordered_json> history_json(const std::string& topic,
                                                                   std::chrono::seconds window) const;
  /// The resolved prefix.
  [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }

 private:
  struct Follower;

  void run();
  std::shared_ptr<const ModelSnapshot> sample();
  /// Fills `topic` from `reader`: schema, publisher, counters, ages; feeds the rate.
  static void describe_region(const RegionReader& reader, Follower& follower, TopicState& topic);
  /// Socket mode, detached from a lost publisher: the last description, not live.
  static void describe_lost(Follower& follower, TopicState& topic);
  /// Attaches the follower's subscriber unless it has one or its back-off runs.
  void attach_if_due(Follower& follower, std::int64_t now_ns);

  std::string prefix_;
  std::string socket_dir_;  // "" = named mode
  std::chrono::milliseconds period_;
  Listener listener_;
  std::map<std::string, std::unique_ptr<Follower>> followers_;  // sampler thread only
  std::uint64_t sample_number_ = 0;
  std::uint64_t descriptor_parses_ = 0;  // sampler thread only

  // Histories are written by the sampler thread and read by the I/O thread.
  mutable std::mutex history_mutex_;
  std::map<std::string, FieldHistory> histories_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::shared_ptr<const ModelSnapshot> latest_;
  std::thread thread_;
};

}  // namespace shmsnap::serve
