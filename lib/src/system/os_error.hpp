// errno becomes a shmsnap::Error here and nowhere else, so every OS failure gets
// the same family mapping and a message of the same shape: action, resource, cause, fix.
#pragma once

#include <string>
#include <string_view>

#include "shmsnap/error.hpp"

namespace shmsnap::detail {

/// The family an errno belongs to (EACCES -> permission_denied, ENOSPC -> out_of_space...).
[[nodiscard]] Errc errc_from_errno(int err) noexcept;

/// "cannot <action> <resource>: <strerror> (<ERRNO>)[; <fix>]" as an Error of the
/// errno's family. `fix` overrides the generic advice for that errno when non-empty.
[[nodiscard]] Error os_error(int err, std::string_view action, std::string_view resource, std::string_view fix = {});

}  // namespace shmsnap::detail
