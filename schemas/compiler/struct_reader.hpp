// Reads the [[struct]] tables and [[field]] lists of a schema file as written: names
// and keys are checked here, types stay text until layout resolves them.
#pragma once

#include <string>
#include <vector>

#include <toml++/toml.h>

#include "diagnostics.hpp"
#include "layout.hpp"
#include "schema_model.hpp"

namespace shmsnap::schemac {

/// The [[field]] tables of `table`: a [[struct]] or the file's top level. `owner`
/// prefixes field subjects ("struct 'Vec3'"; empty for the snapshot type) and
/// `owner_where` locates "has no fields".
[[nodiscard]] std::vector<RawField> read_fields(const toml::table& table, const std::string& owner,
                                                SourceLocation owner_where, DiagnosticList& diagnostics);

/// Every [[struct]] of `root` with a valid name, in file order; one whose fields had
/// errors is kept but not `usable`, so that its uses stay quiet.
[[nodiscard]] std::vector<RawStruct> read_structs(const toml::table& root, DiagnosticList& diagnostics);

}  // namespace shmsnap::schemac
