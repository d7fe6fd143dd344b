// BridgeCounters::summary.
#include "counters.hpp"

#include <fmt/format.h>

namespace shmsnap::bridge {

std::string BridgeCounters::summary() const {
  return fmt::format(
      "exported={} sent={} acked={} failed={} conflated={} heartbeats={} put_errors={} imported={} refused={} "
      "refused_malformed={} "
      "refused_fingerprint={} refused_size={} refused_schema={} ignored_older={} origin_runs={} stale_events={} "
      "reconnects={} chunks={} chunks_abandoned={} chunks_from_watch={} topics_added={} topics_dropped={} "
      "keys_added={} keys_dropped={}",
      exported.load(), sent.load(), acked.load(), failed.load(), conflated.load(), heartbeats.load(), put_errors.load(),
      imported.load(), refused(), refused_malformed.load(), refused_fingerprint.load(), refused_size.load(),
      refused_schema.load(), ignored_older.load(), origin_runs.load(), stale_events.load(), reconnects.load(),
      chunks.load(), chunks_abandoned.load(), chunks_from_watch.load(), topics_added.load(), topics_dropped.load(),
      keys_added.load(), keys_dropped.load());
}

}  // namespace shmsnap::bridge
