// Descriptor JSON and its size guards; see descriptor_json.hpp.
#include "descriptor_json.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace shmsnap::schemac {

namespace {

// The "fields" array of `def`, nested structs and enums written out in full.
nlohmann::ordered_json struct_fields_json(const Schema& schema, const StructDef& def) {
  auto fields = nlohmann::ordered_json::array();
  for (const FieldDef& field : def.fields) {
    nlohmann::ordered_json entry;
    entry["name"] = field.name;
    entry["offset"] = field.offset;
    entry["size"] = field.size;
    switch (field.kind) {
      case TypeKind::primitive:
        entry["type"] = primitive_info(field.primitive).name;
        break;
      case TypeKind::structure:
        entry["type"] = "struct";
        break;
      case TypeKind::enumeration:
        entry["type"] = "enum";
        break;
    }
    if (field.is_array())
      entry["count"] = field.count;
    if (field.kind == TypeKind::primitive && field.primitive == Primitive::character)
      entry["length"] = field.char_length;
    if (field.dims.size() > 1)
      entry["dims"] = field.dims;
    if (!field.count_field.empty())
      entry["count_field"] = field.count_field;
    // Written only when given, so descriptors of schemas without them stay as they were.
    if (!field.unit.empty())
      entry["unit"] = field.unit;
    if (!field.description.empty())
      entry["description"] = field.description;
    if (field.kind == TypeKind::structure) {
      const StructDef& nested = schema.structs[field.type_index];
      nlohmann::ordered_json structure;
      structure["name"] = nested.name;
      structure["size"] = nested.size;
      structure["align"] = nested.align;
      structure["fields"] = struct_fields_json(schema, nested);
      entry["struct"] = std::move(structure);
    } else if (field.kind == TypeKind::enumeration) {
      const EnumDef& def_enum = schema.enums[field.type_index];
      nlohmann::ordered_json enumeration;
      enumeration["name"] = def_enum.name;
      enumeration["underlying"] = primitive_info(def_enum.underlying).name;
      auto values = nlohmann::ordered_json::array();
      for (const EnumValue& value : def_enum.values) {
        values.push_back({{"name", value.name}, {"value", value.value}});
      }
      enumeration["values"] = std::move(values);
      entry["enum"] = std::move(enumeration);
    }
    fields.push_back(std::move(entry));
  }
  return fields;
}

// How many field objects the descriptor holds once nested structs are written out at
// every use; saturates so a file that nests wide structs deeply cannot blow up memory.
std::uint64_t expanded_fields(const Schema& schema, const StructDef& def, std::vector<std::uint64_t>& memo) {
  std::uint64_t total = 0;
  for (const FieldDef& field : def.fields) {
    total += 1;
    if (field.kind == TypeKind::structure) {
      std::uint64_t& nested = memo[field.type_index];
      if (nested == 0)
        nested = expanded_fields(schema, schema.structs[field.type_index], memo);
      total += nested;
    }
    total = std::min<std::uint64_t>(total, max_descriptor_fields + 1);
  }
  return total;
}

// Levels of struct inside struct, `def` itself counted; memo[i] caches schema.structs[i].
std::size_t nesting_depth(const Schema& schema, const StructDef& def, std::vector<std::size_t>& memo) {
  std::size_t deepest = 0;
  for (const FieldDef& field : def.fields) {
    if (field.kind != TypeKind::structure)
      continue;
    std::size_t& nested = memo[field.type_index];
    if (nested == 0)
      nested = nesting_depth(schema, schema.structs[field.type_index], memo);
    deepest = std::max(deepest, nested);
  }
  return deepest + 1;
}

}  // namespace

bool nesting_within_limits(const Schema& schema, SourceLocation where, DiagnosticList& diagnostics) {
  std::vector<std::size_t> depth_memo(schema.structs.size(), 0);
  if (const std::size_t depth = nesting_depth(schema, schema.root, depth_memo); depth > max_nesting_depth) {
    diagnostics.error(
        where, "schema " + quote_name(schema.name),
        "structs nest " + std::to_string(depth) + " levels deep; the limit is " + std::to_string(max_nesting_depth));
    return false;
  }
  std::vector<std::uint64_t> memo(schema.structs.size(), 0);
  if (const std::uint64_t count = expanded_fields(schema, schema.root, memo); count > max_descriptor_fields) {
    diagnostics.error(where, "schema " + quote_name(schema.name),
                      "the descriptor would hold more than " + std::to_string(max_descriptor_fields) +
                          " fields (a nested struct is written out at every use); flatten or share fewer structs");
    return false;
  }
  return true;
}

void build_descriptor_json(Schema& schema, SourceLocation where, DiagnosticList& diagnostics) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%016llx", static_cast<unsigned long long>(schema.fingerprint));
  nlohmann::ordered_json descriptor;
  descriptor["name"] = schema.name;
  descriptor["version"] = schema.version;
  descriptor["size"] = schema.root.size;
  descriptor["align"] = schema.root.align;
  descriptor["fingerprint"] = hex;
  descriptor["fields"] = struct_fields_json(schema, schema.root);
  schema.descriptor_json = descriptor.dump();
  if (schema.descriptor_json.size() > max_descriptor_bytes) {
    diagnostics.error(where, "schema " + quote_name(schema.name),
                      "the descriptor is " + std::to_string(schema.descriptor_json.size()) +
                          " bytes; the region holds at most " + std::to_string(max_descriptor_bytes));
  }
}

}  // namespace shmsnap::schemac
