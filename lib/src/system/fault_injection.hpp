// The one fault-injection point of the library: the publish sequence at which a
// publisher SIGKILLs itself between a slot's odd and even sequence stores. The
// product's answer is always "never"; test executables replace it (see the .cpp).
#pragma once

#include <cstdint>

namespace shmsnap::detail {

/// The publish sequence at which to die mid-write, or 0 for never. Read once per
/// publisher, at create().
[[nodiscard]] std::uint64_t mid_write_fault_seq() noexcept;

}  // namespace shmsnap::detail
