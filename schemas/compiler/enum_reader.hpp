// Reads the [[enum]] tables of a schema file: names, underlying type and values,
// each value checked against the underlying type's range.
#pragma once

#include <vector>

#include <toml++/toml.h>

#include "diagnostics.hpp"
#include "layout.hpp"
#include "schema_model.hpp"

namespace shmsnap::schemac {

/// Appends every valid [[enum]] of `root` to `enums`; the first of two with one name
/// wins. An enum with any error is reported, left out and added to `failed_types`.
void read_enums(const toml::table& root, std::vector<EnumDef>& enums, FailedTypes& failed_types,
                DiagnosticList& diagnostics);

}  // namespace shmsnap::schemac
