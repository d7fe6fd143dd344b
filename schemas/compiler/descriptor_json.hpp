// The descriptor JSON a compiled schema carries into the region (format in
// schemas/README.md), and the limits that keep it, and the canonical layout text,
// inside what the region holds however a hostile file nests its structs.
#pragma once

#include "diagnostics.hpp"
#include "schema_model.hpp"

namespace shmsnap::schemac {

/// False, with a diagnostic at `where`, when the structs nest deeper than
/// max_nesting_depth or expand to more than max_descriptor_fields fields. Check it
/// before building the canonical text or the descriptor: both write a nested struct
/// out at every use, which a small file can make huge.
[[nodiscard]] bool nesting_within_limits(const Schema& schema, SourceLocation where, DiagnosticList& diagnostics);

/// Sets schema.descriptor_json from the laid-out schema and its fingerprint; reports,
/// at `where`, a descriptor longer than the region's max_descriptor_bytes.
void build_descriptor_json(Schema& schema, SourceLocation where, DiagnosticList& diagnostics);

}  // namespace shmsnap::schemac
