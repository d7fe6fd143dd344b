// Prometheus text exposition of a ModelSnapshot and of the server's own counters,
// through prometheus-cpp's registry and text serializer. A fresh registry per
// scrape: topics come and go, and a vanished topic must not linger as a series.
// Pure functions; any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "connection.hpp"
#include "metrics_endpoint.hpp"
#include "topic_model.hpp"

namespace shmsnap::serve {

/// Counters of the HTTP and Foxglove front ends: the listeners' and sessions' own
/// (http::Stats) and what only `shmsnap serve` counts. Relaxed: they are statistics.
struct ServerStats : http::Stats {
  std::atomic<std::uint64_t> origin_refused{0};     ///< a browser page from a foreign Origin
  std::atomic<std::uint64_t> descriptor_parses{0};  ///< Foxglove channel schemas built from descriptors
  std::atomic<std::uint64_t> events_conflated{0};   ///< event-stream events replaced by a newer one before sending
};

/// The content type of render_metrics' output.
inline constexpr const char* metrics_content_type = metrics::content_type;

/// Text exposition (format 0.0.4) of every topic in `model` and of `stats`.
[[nodiscard]] std::string render_metrics(const ModelSnapshot& model, const ServerStats& stats);

}  // namespace shmsnap::serve
