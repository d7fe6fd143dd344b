// Importer: watches Key-Value keys and republishes each accepted value into a local
// topic created from the remote schema record, so local subscribers cannot tell.
// Refuses malformed (a heartbeat_ms out of range included), wrong-fingerprint and
// wrong-size values and refused schema records, counted and logged at most once a
// second; never goes back in seq within one origin run (host, pid, epoch), while a
// new run is taken over whatever its epoch; marks the topic stale (local publisher
// shut down) when the origin is lost or its heartbeats stop arriving, by this
// importer's own clock. With `all`, follows every key of some (or all other) hosts
// as keys appear and are deleted. One thread per key (and one that discovers
// keys); state() and keys() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "counters.hpp"
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
  /// Validates the routes and starts one watching thread per key. Throws
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
  void run(Route& route);
  void discover();
  void start(ImportRoute config, bool discovered);

  NatsLink& link_;
  ImporterOptions options_;
  BridgeCounters& counters_;
  std::atomic<bool> stop_{false};
  mutable std::mutex routes_mutex_;  // guards routes_ (the vector, not the routes' own state)
  std::vector<std::unique_ptr<Route>> routes_;
  std::thread discovery_;
};

}  // namespace shmsnap::bridge
