// Test executables only: replaces the library's fault-injection point (always
// "never", lib/src/system/fault_injection.cpp) with one read from
// $SHMSNAP_FAULT_KILL_MID_WRITE_AT, so fault tests can kill a publisher mid-write.
#include <cstdlib>

#include "system/fault_injection.hpp"

namespace shmsnap::detail {

std::uint64_t mid_write_fault_seq() noexcept {
  const char* from_env = std::getenv("SHMSNAP_FAULT_KILL_MID_WRITE_AT");
  return from_env != nullptr ? std::strtoull(from_env, nullptr, 10) : 0;
}

}  // namespace shmsnap::detail
