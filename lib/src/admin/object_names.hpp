// What the admin files share about the objects they name: the shm and mqueue name
// rule, and the mqueue filesystem's statfs magic.
#pragma once

#include <string_view>

namespace shmsnap::admin {

/// MQUEUE_MAGIC of the kernel's include/uapi/linux/magic.h (the userspace copy lacks it).
inline constexpr long mqueue_magic = 0x19800202;

/// shm_open and mq_open take "/<name>" with no other '/': anything else would
/// address a path outside the namespace. Throws Error{invalid_argument} naming `what`.
void validate_object_name(std::string_view what, std::string_view name);

}  // namespace shmsnap::admin
