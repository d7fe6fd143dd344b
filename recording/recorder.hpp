// `shmsnap record`: follows topics of any schema and writes every delivered refresh
// as an MCAP message. Runs on the caller's thread until `stop`, --duration or a
// write error; MCAP chunks are compressed and written on a worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "mcap/compression.hpp"

namespace shmsnap::recording {

/// How messages are stored.
enum class Encoding { raw, json };

struct RecordOptions {
  std::string output;               ///< the .mcap file to write
  std::string prefix;               ///< "" = $SHMSNAP_PREFIX or "shmsnap"
  double duration = 0;              ///< seconds; 0 = until stopped
  bool all = false;                 ///< every topic of the prefix, also those that appear later
  std::vector<std::string> topics;  ///< the topics to follow (waited for when absent)
  mcap::Compression compression = mcap::Compression::zstd;
  Encoding encoding = Encoding::raw;
  std::size_t chunk_size = 1U << 20;
};

/// Per-topic outcome.
struct TopicCounts {
  std::uint64_t recorded = 0;
  std::uint64_t skipped = 0;  ///< publishes replaced by a newer one before the recorder read them
};

struct RecordReport {
  std::uint64_t messages = 0;
  std::uint64_t file_size = 0;
  std::map<std::string, TopicCounts> topics;
};

/// Records until `stop` is set, the duration passes, or writing fails. Progress and
/// warnings go to `log`. Throws Error: invalid_argument (options), out_of_space or
/// system (writing; the file is then finished up to its last complete chunk).
RecordReport record(const RecordOptions& options, const std::atomic<bool>& stop, std::ostream& log);

}  // namespace shmsnap::recording
