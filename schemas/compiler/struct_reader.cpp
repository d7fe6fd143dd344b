// The [[struct]] and [[field]] reader; see struct_reader.hpp.
#include "struct_reader.hpp"

#include <map>
#include <utility>

#include "identifiers.hpp"
#include "toml_access.hpp"

namespace shmsnap::schemac {

std::vector<RawField> read_fields(const toml::table& table, const std::string& owner, SourceLocation owner_where,
                                  DiagnosticList& diagnostics) {
  std::vector<RawField> fields;
  const toml::array* array = read_table_array(table, "field", owner, diagnostics);
  if (array == nullptr) {
    if (table.get("field") == nullptr) {
      diagnostics.error(owner_where, owner, "has no fields (add [[field]] sections with a name and a type)");
    }
    return fields;
  }
  if (array->empty()) {
    diagnostics.error(owner_where, owner, "has no fields");
    return fields;
  }
  if (array->size() > max_fields_per_struct) {
    diagnostics.error(owner_where, owner, "has more than " + std::to_string(max_fields_per_struct) + " fields");
    return fields;
  }
  std::map<std::string, int, std::less<>> seen;
  for (const toml::node& element : *array) {
    const toml::table& field_table = *element.as_table();
    RawField field;
    field.where = location_of(field_table.source());
    const std::string anonymous = owner.empty() ? "field" : owner + " field";
    check_keys(field_table, {"name", "type", "doc", "count_field"}, anonymous, diagnostics);
    const auto name = read_string(field_table, "name", anonymous, field.where, true, diagnostics);
    if (!name)
      continue;
    field.name = *name;
    const std::string subject = (owner.empty() ? "field " : owner + " field ") + quote_name(field.name);
    if (const toml::node* name_node = field_table.get("name"))
      field.where = location_of(name_node->source());
    if (std::string why = identifier_problem(field.name); !why.empty()) {
      diagnostics.error(field.where, subject, "invalid field name: " + why);
      continue;
    }
    if (auto [it, fresh] = seen.emplace(field.name, field.where.line); !fresh) {
      diagnostics.error(field.where, subject,
                        "duplicate field name (first defined on line " + std::to_string(it->second) + ")");
      continue;
    }
    const auto type = read_string(field_table, "type", subject, field.where, true, diagnostics);
    if (!type)
      continue;
    field.type_text = *type;
    field.type_where = location_of(field_table.get("type")->source());
    field.doc = read_string(field_table, "doc", subject, field.where, false, diagnostics).value_or("");
    if (const toml::node* count_node = field_table.get("count_field")) {
      field.count_field_where = location_of(count_node->source());
      // The used prefix of a snapshot ends inside its last top-level field; a
      // sequence inside a nested struct would leave bytes after it in use.
      if (!owner.empty()) {
        diagnostics.error(field.count_field_where, subject,
                          "'count_field' is only allowed on the last field of the snapshot itself, not inside a "
                          "[[struct]]; move the array to the end of the top-level fields");
        continue;
      }
      const auto count_field = read_string(field_table, "count_field", subject, field.where, false, diagnostics);
      if (!count_field)
        continue;
      field.count_field = *count_field;
    }
    fields.push_back(std::move(field));
  }
  return fields;
}

std::vector<RawStruct> read_structs(const toml::table& root, DiagnosticList& diagnostics) {
  std::vector<RawStruct> structs;
  const toml::array* tables = read_table_array(root, "struct", "schema", diagnostics);
  if (tables == nullptr)
    return structs;
  for (const toml::node& element : *tables) {
    const toml::table& table = *element.as_table();
    RawStruct raw;
    raw.where = location_of(table.source());
    check_keys(table, {"name", "doc", "field"}, "struct", diagnostics);
    const auto name = read_string(table, "name", "struct", raw.where, true, diagnostics);
    if (!name)
      continue;
    raw.name = *name;
    if (const toml::node* name_node = table.get("name"))
      raw.where = location_of(name_node->source());
    const std::string subject = "struct " + quote_name(raw.name);
    if (std::string why = type_name_problem(raw.name); !why.empty()) {
      diagnostics.error(raw.where, subject, "invalid name: " + why);
      continue;
    }
    raw.doc = read_string(table, "doc", subject, raw.where, false, diagnostics).value_or("");
    const std::size_t errors_before = diagnostics.count();
    raw.fields = read_fields(table, subject, raw.where, diagnostics);
    raw.usable = diagnostics.count() == errors_before;
    structs.push_back(std::move(raw));
  }
  return structs;
}

}  // namespace shmsnap::schemac
