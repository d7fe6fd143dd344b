#include "system/log.hpp"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace shmsnap::detail {

spdlog::logger& log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto created = spdlog::get("shmsnap");
    if (!created) {
      created = spdlog::stderr_color_mt("shmsnap");
    }
    const char* level = std::getenv("SHMSNAP_LOG_LEVEL");
    created->set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::warn);
    return created;
  }();
  return *logger;
}

}  // namespace shmsnap::detail
