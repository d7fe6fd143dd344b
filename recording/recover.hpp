// `shmsnap record --recover IN OUT`: rewrites a recording that lacks its summary (a
// recorder killed, a disk that filled) as a complete MCAP file holding every message
// of IN's complete chunks. Caller's thread; IN is only read.
#pragma once

#include <cstdint>
#include <string>

#include "mcap/compression.hpp"

namespace shmsnap::recording {

struct RecoverReport {
  std::uint64_t messages = 0;
  bool input_complete = false;
  std::string input_truncation;  ///< where and why IN ended early
};

/// Throws Error for a missing or malformed IN, or when OUT cannot be written.
RecoverReport recover(const std::string& input, const std::string& output,
                      mcap::Compression compression = mcap::Compression::zstd);

}  // namespace shmsnap::recording
