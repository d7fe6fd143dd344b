// `shmsnap replay`: republishes the channels of an MCAP recording as their topics'
// publishers, with the recorded timing (scaled by --speed, or as fast as possible).
// Runs on the caller's thread until the file ends (or forever with --loop) or `stop`.
#pragma once

#include <atomic>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace shmsnap::recording {

struct ReplayOptions {
  std::string input;                ///< the .mcap file
  double speed = 1.0;               ///< 2 = twice as fast
  bool max = false;                 ///< no waiting between messages
  bool loop = false;                ///< start over at the end
  std::vector<std::string> topics;  ///< only these (all when empty)
  std::string prefix;               ///< where to publish ("" = $SHMSNAP_PREFIX or "shmsnap")
  double start = 0;                 ///< skip messages before start s (from the first message)
  double end = 0;                   ///< stop after end s (0 = to the end)
};

struct ReplayReport {
  std::uint64_t published = 0;
  std::uint64_t passes = 0;
};

/// Replays. Throws Error: not_found (file), invalid_argument (malformed file or a
/// channel not recorded by shmsnap), busy (a live publisher holds a topic), ...
ReplayReport replay(const ReplayOptions& options, const std::atomic<bool>& stop, std::ostream& log);

}  // namespace shmsnap::recording
