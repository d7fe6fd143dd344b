// The [[struct]] and [[field]] reader; see struct_reader.hpp.
#include "struct_reader.hpp"

#include <map>
#include <utility>

#include "identifiers.hpp"
#include "toml_access.hpp"

namespace shmsnap::schemac {

namespace {

// `doc` on one line: every run of whitespace (newlines, tabs) becomes one space, and
// none leads or trails. What the descriptor carries as the field's "description".
std::string one_line(std::string_view doc) {
  std::string out;
  bool space = false;
  for (const char c : doc) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space)
      out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Why `text` cannot go into the descriptor as a field's `what` of at most `max` bytes,
// or empty. Every view prints it next to a value, so it is printable ASCII like the
// rest of a schema file (a TOML escape such as \u00b0 is refused too); the library's
// descriptor parser accepts a wider set (printable UTF-8) from other writers.
std::string note_problem(std::string_view text, std::string_view what, std::size_t max) {
  if (text.size() > max) {
    return std::string(what) + " is " + std::to_string(text.size()) + " characters; the descriptor carries at most " +
           std::to_string(max);
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f) {
      return std::string(what) + " has a " + (c >= 0x80 ? "non-ASCII" : "control") + " character at byte " +
             std::to_string(i + 1) + "; it must be printable ASCII";
    }
  }
  return {};
}

}  // namespace

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
    check_keys(field_table, {"name", "type", "doc", "unit", "count_field"}, anonymous, diagnostics);
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
    field.description = one_line(field.doc);
    if (std::string why = note_problem(field.description, "'doc'", max_description_length); !why.empty()) {
      const toml::node* doc_node = field_table.get("doc");
      diagnostics.error(doc_node != nullptr ? location_of(doc_node->source()) : field.where, subject,
                        why +
                            " (a field's doc is also its description in the descriptor); shorten it or move "
                            "the rest to a # comment");
      continue;
    }
    if (const toml::node* unit_node = field_table.get("unit")) {
      const auto unit = read_string(field_table, "unit", subject, field.where, false, diagnostics);
      if (!unit)
        continue;
      std::string why = unit->empty() ? "'unit' is empty; leave it out when the value has none"
                                      : note_problem(*unit, "'unit'", max_unit_length);
      if (!why.empty()) {
        diagnostics.error(location_of(unit_node->source()), subject, why + " (e.g. \"m\", \"rad\", \"ns\")");
        continue;
      }
      field.unit = *unit;
    }
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
