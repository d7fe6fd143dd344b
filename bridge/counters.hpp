// BridgeCounters: what one bridge process has done, for the SIGUSR1 report and
// for tests. Written by the exporter and importer threads with relaxed atomics,
// read from any thread (each counter is exact; a report is not one instant).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace shmsnap::bridge {

struct BridgeCounters {
  std::atomic<std::uint64_t> exported{0};    ///< refreshes put to NATS (acknowledged)
  std::atomic<std::uint64_t> sent{0};        ///< asynchronous puts handed to NATS (values and heartbeats)
  std::atomic<std::uint64_t> acked{0};       ///< of those, acknowledged by the server (stored)
  std::atomic<std::uint64_t> failed{0};      ///< puts NATS refused or never acknowledged (the latest is put again)
  std::atomic<std::uint64_t> conflated{0};   ///< refreshes replaced by a newer one before being put
  std::atomic<std::uint64_t> heartbeats{0};  ///< liveness re-puts
  std::atomic<std::uint64_t> put_errors{0};  ///< puts NATS did not take (retried with the latest)
  std::atomic<std::uint64_t> imported{0};    ///< values republished locally
  std::atomic<std::uint64_t> refused_malformed{0};    ///< not an envelope (or a broken one)
  std::atomic<std::uint64_t> refused_fingerprint{0};  ///< fingerprint differs from the schema record
  std::atomic<std::uint64_t> refused_size{0};         ///< payload size differs from the schema's
  std::atomic<std::uint64_t> refused_schema{0};       ///< schema record unreadable or its descriptor refused
  std::atomic<std::uint64_t> ignored_older{0};        ///< seq not newer than the held one of the same origin run
  std::atomic<std::uint64_t> origin_runs{0};          ///< values of a new origin run (host, pid, epoch) taken over
  std::atomic<std::uint64_t> stale_events{0};         ///< imported topics marked stale (origin lost)
  std::atomic<std::uint64_t> reconnects{0};           ///< NATS reconnects (copied from the link)
  std::atomic<std::uint64_t> chunks{0};               ///< chunks put for snapshots above max_payload
  std::atomic<std::uint64_t> chunks_abandoned{0};     ///< chunked snapshots not assembled (the exporter moved on)
  std::atomic<std::uint64_t> chunks_from_watch{0};    ///< chunks `import --all` had from its watch, not fetched
  std::atomic<std::uint64_t> topics_added{0};         ///< topics `export --all` began to export
  std::atomic<std::uint64_t> topics_dropped{0};       ///< topics `export --all` dropped (region gone, keys deleted)
  std::atomic<std::uint64_t> keys_added{0};           ///< keys `import --all` began to import
  std::atomic<std::uint64_t> keys_dropped{0};         ///< keys `import --all` dropped (deleted in the bucket)

  /// "exported=N conflated=N ... reconnects=N" on one line.
  [[nodiscard]] std::string summary() const;
  /// Every refusal together.
  [[nodiscard]] std::uint64_t refused() const noexcept {
    return refused_malformed.load() + refused_fingerprint.load() + refused_size.load() + refused_schema.load();
  }
};

}  // namespace shmsnap::bridge
