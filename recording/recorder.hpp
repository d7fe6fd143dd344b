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
  /// Socket mode: follow topics through <socket_dir>/<topic>.sock (with `all`: every
  /// socket there) instead of the prefix's names; "" = named mode.
  std::string socket_dir;
  mcap::Compression compression = mcap::Compression::zstd;
  Encoding encoding = Encoding::raw;
  std::size_t chunk_size = 1U << 20;
  /// Seconds after its first message that a chunk is closed at the latest, whether
  /// or not more messages arrive: what a SIGKILL can take from the file.
  double chunk_interval = 1.0;
};

/// The longest --duration and --chunk-interval, in seconds (a year): more would
/// overflow the nanosecond clock arithmetic.
inline constexpr double max_record_seconds = 365.0 * 24 * 3600;

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
