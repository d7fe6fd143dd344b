// Exporter: follows local topics of any schema (UntypedSubscriber) and puts
// each refresh, wrapped in an envelope, to its NATS Key-Value key; the schema
// record goes to the topic's schema key first. Values go out asynchronously: up
// to `window` puts await their acks at once, at most one per key, and a key whose
// put is in flight keeps only its newest refresh for the next (latest state, not
// a log). Conflates to --max-rate, re-puts
// the last value as a heartbeat, and flags origin loss. With `all`, follows every
// topic of the prefix as topics appear and go, under "<host id>.<topic>". All
// calls on one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "counters.hpp"
#include "nats_link.hpp"

namespace shmsnap::bridge {

/// One local topic and the key it is exported to.
struct ExportRoute {
  std::string topic;
  std::string key;         ///< "" = the topic name; use e.g. "host1.quotes" to keep hosts apart
  double max_rate_hz = 0;  ///< 0 = every refresh; else at most this many puts per second (latest wins)
};

struct ExporterOptions {
  std::string prefix;  ///< local namespace; "" = $SHMSNAP_PREFIX or "shmsnap"
  /// Socket mode: follow the topics through <socket_dir>/<topic>.sock, and with `all`
  /// export every socket there, instead of the prefix's names; "" = named mode.
  std::string socket_dir;
  std::vector<ExportRoute> routes;
  std::chrono::milliseconds heartbeat{1000};  ///< re-put period while idle; importers go stale after 3x
  bool force = false;                         ///< export topics that are themselves imported (a loop) anyway
  std::size_t window = 256;                   ///< puts awaiting their acks at once, over all keys (1..4096)
  /// Largest snapshot exported; one above the server's max_payload crosses in
  /// chunks (chunks.hpp), put synchronously before its manifest.
  std::uint64_t max_snapshot_bytes = 64ULL << 20;
  /// Export every topic of the prefix (besides `routes`): topics are picked up
  /// within `scan_period` of appearing, under key "<host_id>.<topic>", and dropped
  /// (a last "exporter stopped" value, then both keys deleted) once their region
  /// is gone.
  bool all = false;
  std::string host_id;                         ///< "" = default_host_id()
  double all_max_rate_hz = 0;                  ///< --max-rate of the topics `all` finds
  std::chrono::milliseconds scan_period{250};  ///< how often `all` lists the prefix's regions
  std::size_t max_topics = 1024;               ///< `all` follows at most this many topics
};

class Exporter {
 public:
  /// Attaches to every topic that exists now (others are attached when they
  /// appear). Throws shmsnap::Error: invalid_argument (bad key/topic, an imported
  /// topic without force) or limit_exceeded (a snapshot above NATS max_payload).
  Exporter(NatsLink& link, ExporterOptions options, BridgeCounters& counters);
  /// Puts every exported value once more flagged "exporter stopped", so importers
  /// mark it stale at once instead of after the heartbeat timeout.
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  /// Waits up to `max_wait` for refreshes and does what is due: puts, heartbeats,
  /// attaching topics that appeared.
  void run_once(std::chrono::milliseconds max_wait);

 private:
  struct Route;
  void try_attach(Route& route, bool at_start);
  void scan_topics(std::int64_t now);
  void drop(Route& route);
  [[nodiscard]] bool may_put(const Route& route, std::int64_t now) const;
  bool put_value(Route& route, std::uint16_t flags);  // true when the put went out
  /// The last value, flagged, put synchronously: it must be stored before what
  /// follows (a key deletion, the process exit).
  void put_final(Route& route, std::uint16_t flags);
  bool encode_value(Route& route, std::uint16_t flags, std::int64_t now);
  /// Puts `snapshot` (the carried part of the route's current value) as chunks.
  bool put_chunks(Route& route, std::span<const std::byte> snapshot);
  void take_acks();
  bool put_schema(Route& route);

  NatsLink& link_;
  ExporterOptions options_;
  BridgeCounters& counters_;
  std::string host_;
  struct Loop;
  std::unique_ptr<Loop> loop_;
  std::vector<std::unique_ptr<Route>> routes_;
  std::unordered_map<std::string, Route*> by_key_;              // routes that have a put in flight
  std::unordered_map<std::string, std::size_t> orphaned_acks_;  // of dropped routes' puts, per key
  std::vector<PutResult> acks_;                                 // reused: no allocation per drain
  std::size_t in_flight_ = 0;                                   // puts awaiting their acks
  std::int64_t next_scan_ns_ = 0;
  bool announced_topic_limit_ = false;
};

}  // namespace shmsnap::bridge
