// Bridge: one shmsnap-bridge process's engine, usable in-process: one NATS
// connection, an Exporter on its own thread and an Importer (a thread per
// configured key, one per `--all` host pattern).
// Construct, query and destroy it from one thread.
#pragma once

#include <atomic>
#include <memory>
#include <thread>

#include "config.hpp"
#include "counters.hpp"
#include "exporter.hpp"
#include "importer.hpp"
#include "nats_link.hpp"

namespace shmsnap::bridge {

class Bridge {
 public:
  /// Connects, attaches the exported topics present now and starts watching the
  /// imported keys. Throws shmsnap::Error (see NatsLink, Exporter, Importer).
  explicit Bridge(const BridgeConfig& config);
  /// Stops exporting (a last "exporter stopped" put) and importing (local topics
  /// shut down), then disconnects.
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  [[nodiscard]] const BridgeCounters& counters() const noexcept { return counters_; }
  /// The import state of `key` (see Importer::state).
  [[nodiscard]] ImportState import_state(const std::string& key) const;
  /// Every key imported now and its local topic (see Importer::routes).
  [[nodiscard]] std::vector<ImportRoute> import_routes() const;
  [[nodiscard]] NatsLink& link() noexcept { return *link_; }

 private:
  BridgeCounters counters_;
  std::unique_ptr<NatsLink> link_;
  std::unique_ptr<Exporter> exporter_;
  std::unique_ptr<Importer> importer_;
  std::atomic<bool> stop_{false};
  std::thread export_thread_;
};

}  // namespace shmsnap::bridge
