// What the admin files share about the objects they name: the shm and mqueue name
// rule, and the mqueue filesystem's statfs magic.
#pragma once

#include <string_view>

#include "shmsnap/detail/queue_holders.hpp"

namespace shmsnap::admin {

using detail::mqueue_magic;

/// shm_open and mq_open take "/<name>" with no other '/': anything else would
/// address a path outside the namespace. Throws Error{invalid_argument} naming `what`.
void validate_object_name(std::string_view what, std::string_view name);

}  // namespace shmsnap::admin
