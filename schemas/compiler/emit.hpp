// Back end of shmsnap-schemac: turns a compiled Schema into the C++ header that
// defines the snapshot type. Pure function of the schema; callable from any thread.
#pragma once

#include <string>

#include "schema_model.hpp"

namespace shmsnap::schemac {

/// The complete text of the generated header for `schema` (see schemas/README.md for
/// what it contains). Deterministic: the same schema always gives the same bytes.
[[nodiscard]] std::string emit_header(const Schema& schema);

}  // namespace shmsnap::schemac
