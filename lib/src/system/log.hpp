// The library's spdlog logger. Level from SHMSNAP_LOG_LEVEL (trace, debug, info,
// warn, error, critical, off; default warn). Nothing is logged per publish above debug.
#pragma once

#include <spdlog/spdlog.h>

namespace shmsnap::detail {

/// The "shmsnap" logger, created on first use; thread-safe.
spdlog::logger& log();

}  // namespace shmsnap::detail
