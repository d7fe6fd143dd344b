// Importer: watches Key-Value keys and republishes each accepted value into a local
// topic created from the remote schema record, so local subscribers cannot tell.
// Refuses malformed (a heartbeat_ms out of range included), wrong-fingerprint and
// wrong-size values and refused schema records, counted and logged at most once a
// second; never goes back in seq within one origin run (host, pid, epoch), while a
// new run is taken over whatever its epoch; marks the topic stale (local publisher
// shut down) when the origin is lost or its heartbeats stop arriving, by this
// importer's own clock. With `all`, follows every key of some (or all other) hosts
// as keys appear and are deleted. Threads: one per configured key, and with `all`
// one per host pattern, whose single wildcard watch carries every key's values (no
// thread or consumer per key); state() and keys() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chunks.hpp"
#include "counters.hpp"
#include "envelope.hpp"
#include "nats_link.hpp"
#include "shmsnap/publisher.hpp"

namespace shmsnap::bridge {

/// One key and the local topic it is imported as.
struct ImportRoute {
  std::string key;
  std::string topic;  ///< "" = the key
};

struct ImporterOptions {
  std::vector<ImportRoute> routes;
  PublisherOptions publisher;  ///< prefix, mode, slots of the local topics
  /// Import every key "<host>.<topic>" of `hosts` (besides `routes`) as local topic
  /// "<host>.<topic>", picked up as keys appear and dropped (local topic shut down)
  /// when they are deleted. No hosts = every host but `own_host_id`.
  bool all = false;
  std::vector<std::string> hosts;
  std::string own_host_id;      ///< "" = default_host_id(); never imported by `all` (no loop)
  std::size_t max_keys = 1024;  ///< `all` follows at most this many keys
};

/// What an importer holds for one key.
struct ImportState {
  bool has_value = false;   ///< a value was accepted (maybe held stale)
  bool stale = false;       ///< the origin is lost (or silent): last state only
  bool local_live = false;  ///< a local publisher serves the topic now
  std::uint64_t epoch = 0;  ///< origin epoch of the held value
  std::uint64_t seq = 0;    ///< origin sequence of the held value
};

class Importer {
 public:
  /// Validates the routes and starts the watching threads. Throws
  /// shmsnap::Error (invalid_argument) for a bad key or topic name.
  Importer(NatsLink& link, ImporterOptions options, BridgeCounters& counters);
  /// Stops the threads and shuts the local topics down (subscribers see stale).
  ~Importer();
  Importer(const Importer&) = delete;
  Importer& operator=(const Importer&) = delete;

  /// The state of `key` now (default-constructed for an unknown key).
  [[nodiscard]] ImportState state(const std::string& key) const;
  /// Every key imported now, with its local topic: the configured ones and what
  /// `all` found.
  [[nodiscard]] std::vector<ImportRoute> routes() const;

 private:
  struct Route;
  void follow_key(Route& route);
  void follow_pattern(const std::string& pattern);
  Route* adopt(const std::string& key, std::set<std::string>& ignored, bool& announced_limit);
  void drop(const std::string& key, std::unique_ptr<Route> route);
  void start(ImportRoute config);

  // What one value does to a route (called by the route's one following thread).
  void handle(Route& route, std::span<const std::byte> value, bool live);
  void refuse(Route& route, std::atomic<std::uint64_t>& counter, const std::string& why);
  void go_stale(Route& route, const char* why);
  bool ensure_publisher(Route& route, std::string_view origin_host);
  std::optional<SchemaRecord> schema_for(Route& route, std::uint64_t fingerprint, std::string& why,
                                         std::atomic<std::uint64_t>*& counter);
  bool assemble(Route& route, const ChunkManifest& manifest, std::string& why);
  void check_silence(Route& route, std::int64_t now_ns);

  NatsLink& link_;
  ImporterOptions options_;
  BridgeCounters& counters_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> discovered_{0};  // keys `all` imports now, over every pattern
  mutable std::mutex routes_mutex_;         // guards routes_ (the vector, not the routes' own state)
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<std::thread> pattern_threads_;
};

}  // namespace shmsnap::bridge
