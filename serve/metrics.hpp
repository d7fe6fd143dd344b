// Prometheus text exposition of a ModelSnapshot and of the server's own counters,
// through prometheus-cpp's registry and text serializer. A fresh registry per
// scrape: topics come and go, and a vanished topic must not linger as a series.
// Pure functions; any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "topic_model.hpp"

namespace shmsnap::serve {

/// Counters of the HTTP and Foxglove front ends, updated on the I/O thread and read
/// by the scrape (relaxed: they are statistics).
struct ServerStats {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_refused{0};  ///< over the connection limit
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bad_requests{0};          ///< unparsable, oversized or not allowed
  std::atomic<std::uint64_t> unauthorized{0};          ///< missing or wrong token
  std::atomic<std::uint64_t> origin_refused{0};        ///< a browser page from a foreign Origin
  std::atomic<std::uint64_t> descriptor_parses{0};     ///< Foxglove channel schemas built from descriptors
  std::atomic<std::uint64_t> slow_clients_dropped{0};  ///< send buffer over the limit or write timeout
};

/// The content type of render_metrics' output.
inline constexpr const char* metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// Text exposition (format 0.0.4) of every topic in `model` and of `stats`.
[[nodiscard]] std::string render_metrics(const ModelSnapshot& model, const ServerStats& stats);

}  // namespace shmsnap::serve
