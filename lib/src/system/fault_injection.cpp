// The product's fault-injection point: never. This file defines nothing else, so
// a test executable that links tests/support/fault_injection.cpp (which reads
// $SHMSNAP_FAULT_KILL_MID_WRITE_AT) gets its definition instead, and the linker
// never pulls this one from the static library. Product binaries ignore the variable.
#include "system/fault_injection.hpp"

namespace shmsnap::detail {

std::uint64_t mid_write_fault_seq() noexcept {
  return 0;
}

}  // namespace shmsnap::detail
