// Bridge: wiring of NatsLink, Exporter (own thread) and Importer.
#include "bridge.hpp"

namespace shmsnap::bridge {

Bridge::Bridge(const BridgeConfig& config) : link_(std::make_unique<NatsLink>(config.nats)) {
  // The importer first and the export thread last: whatever throws leaves only
  // members whose destructors clean up (no joinable thread behind).
  if (!config.importer.routes.empty() || config.importer.all) {
    importer_ = std::make_unique<Importer>(*link_, config.importer, counters_);
  }
  if (!config.exporter.routes.empty() || config.exporter.all) {
    exporter_ = std::make_unique<Exporter>(*link_, config.exporter, counters_);
    // The exporter was built here (its start-up errors reach the caller); from
    // now on only this thread touches it.
    export_thread_ = std::thread([this] {
      while (!stop_.load()) {
        exporter_->run_once(std::chrono::milliseconds(50));
      }
      exporter_.reset();
    });
  }
}

Bridge::~Bridge() {
  stop_.store(true);
  if (export_thread_.joinable()) {
    export_thread_.join();
  }
  importer_.reset();
  link_.reset();
}

ImportState Bridge::import_state(const std::string& key) const {
  return importer_ ? importer_->state(key) : ImportState{};
}

std::vector<ImportRoute> Bridge::import_routes() const {
  return importer_ ? importer_->routes() : std::vector<ImportRoute>{};
}

}  // namespace shmsnap::bridge
