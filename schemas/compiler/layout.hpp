// Type resolution and layout: turns the structs as the readers found them into
// StructDefs with every field's type resolved and natural C++ alignment, each struct
// after the structs it contains. One call per compile, after all reading is done.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "diagnostics.hpp"
#include "schema_model.hpp"

namespace shmsnap::schemac {

/// A field as written, before its type is resolved.
struct RawField {
  std::string name;
  std::string type_text;
  std::string doc;
  std::string unit;                  ///< unit = "..."; empty when absent
  std::string description;           ///< doc on one line, checked for the descriptor
  std::string count_field;           ///< count_field = "..."; empty when absent
  SourceLocation where;              ///< the field's table, or its name once read
  SourceLocation type_where;         ///< the type = "..." value
  SourceLocation count_field_where;  ///< the count_field = "..." value
};

/// A struct as written: a [[struct]] table or the snapshot type itself.
struct RawStruct {
  std::string name;
  std::string doc;
  SourceLocation where;
  std::vector<RawField> fields;
  bool usable = true;  ///< false when its definition already failed; uses of it then stay quiet
};

/// Types that are defined but invalid. Each was reported where it is defined, so a
/// field that uses one is refused without a second, misleading "unknown type".
using FailedTypes = std::set<std::string, std::less<>>;

/// Lays out `structs` into schema.structs, then `root` into schema.root (its name,
/// doc and location stay as schema.root had them). `structs` is reordered so that
/// each follows the structs it contains; a recursive nesting or too many types is
/// reported and then nothing is laid out. A struct that fails, or is in
/// `failed_types` already, is left out and added to `failed_types`. Needs
/// schema.enums and schema.root.name filled in.
void lay_out_structs(std::vector<RawStruct>& structs, const RawStruct& root, FailedTypes& failed_types, Schema& schema,
                     DiagnosticList& diagnostics);

}  // namespace shmsnap::schemac
