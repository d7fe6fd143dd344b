// The [[enum]] reader; see enum_reader.hpp.
#include "enum_reader.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "identifiers.hpp"
#include "toml_access.hpp"

namespace shmsnap::schemac {

namespace {

// Reads `values` into def.values; implicit values continue from the previous one, as
// in C++. Any error clears `good`. A value's range is checked only while `good` holds:
// after an error in this enum def.underlying may be a placeholder.
void read_values(const toml::array& values, const std::string& subject, EnumDef& def, bool& good,
                 DiagnosticList& diagnostics) {
  std::optional<std::int64_t> next = 0;
  std::map<std::string, SourceLocation, std::less<>> names;
  std::map<std::int64_t, std::string> numbers;
  for (const toml::node& value_node : values) {
    const SourceLocation value_where = location_of(value_node.source());
    EnumValue value;
    value.where = value_where;
    std::optional<std::int64_t> explicit_value;
    if (value_node.is_string()) {
      value.name = value_node.as_string()->get();
    } else if (value_node.is_table()) {
      const toml::table& value_table = *value_node.as_table();
      check_keys(value_table, {"name", "value", "doc"}, subject + " value", diagnostics);
      const auto value_name = read_string(value_table, "name", subject + " value", value_where, true, diagnostics);
      if (!value_name) {
        good = false;
        continue;
      }
      value.name = *value_name;
      if (const toml::node* number = value_table.get("value")) {
        if (!number->is_integer()) {
          diagnostics.error(location_of(number->source()), subject + " value " + quote_name(value.name),
                            "'value' must be an integer, not " + std::string(node_kind(*number)));
          good = false;
          continue;
        }
        explicit_value = number->as_integer()->get();
      }
    } else {
      diagnostics.error(
          value_where, subject,
          "each value must be a name or a {name, value} table, not " + std::string(node_kind(value_node)));
      good = false;
      continue;
    }
    const std::string value_subject = subject + " value " + quote_name(value.name);
    if (std::string why = identifier_problem(value.name); !why.empty()) {
      diagnostics.error(value_where, value_subject, "invalid name: " + why);
      good = false;
      continue;
    }
    if (explicit_value) {
      value.value = *explicit_value;
    } else if (next) {
      value.value = *next;
    } else {
      diagnostics.error(value_where, value_subject,
                        "the implicit value after 9223372036854775807 overflows; give it a value");
      good = false;
      continue;
    }
    next = value.value == std::numeric_limits<std::int64_t>::max() ? std::nullopt
                                                                   : std::optional<std::int64_t>(value.value + 1);
    if (auto [it, fresh] = names.emplace(value.name, value_where); !fresh) {
      diagnostics.error(value_where, value_subject,
                        "duplicate value name (first defined on line " + std::to_string(it->second.line) + ")");
      good = false;
      continue;
    }
    if (auto [it, fresh] = numbers.emplace(value.value, value.name); !fresh) {
      diagnostics.error(value_where, value_subject,
                        "value " + std::to_string(value.value) + " is already used by " + quote_name(it->second) +
                            " (each value needs one name so a decoder can print it)");
      good = false;
      continue;
    }
    if (good && def.underlying != Primitive::u64 && def.underlying != Primitive::i64) {
      const std::size_t bits = primitive_info(def.underlying).size * 8;
      const bool is_signed = is_signed_integer(def.underlying);
      const std::int64_t low = is_signed ? -(std::int64_t{1} << (bits - 1)) : 0;
      const std::int64_t high = is_signed ? (std::int64_t{1} << (bits - 1)) - 1 : (std::int64_t{1} << bits) - 1;
      if (value.value < low || value.value > high) {
        diagnostics.error(value_where, value_subject,
                          "value " + std::to_string(value.value) + " does not fit " +
                              std::string(primitive_info(def.underlying).name) + " (" + std::to_string(low) + ".." +
                              std::to_string(high) + ")");
        good = false;
        continue;
      }
    } else if (def.underlying == Primitive::u64 && value.value < 0) {
      diagnostics.error(value_where, value_subject, "negative value " + std::to_string(value.value) + " in a u64 enum");
      good = false;
      continue;
    }
    def.values.push_back(std::move(value));
  }
}

}  // namespace

void read_enums(const toml::table& root, std::vector<EnumDef>& enums, FailedTypes& failed_types,
                DiagnosticList& diagnostics) {
  const toml::array* tables = read_table_array(root, "enum", "schema", diagnostics);
  if (tables == nullptr)
    return;
  std::map<std::string, std::size_t, std::less<>> index;  // name -> index into enums
  for (const toml::node& element : *tables) {
    const toml::table& table = *element.as_table();
    const SourceLocation where = location_of(table.source());
    check_keys(table, {"name", "underlying", "values", "doc"}, "enum", diagnostics);
    const auto name = read_string(table, "name", "enum", where, true, diagnostics);
    if (!name)
      continue;
    const std::string subject = "enum " + quote_name(*name);
    EnumDef def;
    def.name = *name;
    def.where = where;
    def.doc = read_string(table, "doc", subject, where, false, diagnostics).value_or("");
    bool good = true;
    if (std::string why = type_name_problem(def.name); !why.empty()) {
      diagnostics.error(where, subject, "invalid name: " + why);
      good = false;
    }
    const auto underlying = read_string(table, "underlying", subject, where, true, diagnostics);
    if (!underlying) {
      good = false;
    } else if (const auto p = primitive_by_name(*underlying); !p || !is_integer(*p)) {
      const toml::node* node = table.get("underlying");
      diagnostics.error(
          location_of(node->source()), subject,
          "underlying type " + quote_name(*underlying) + " is not an integer type (expected i8..i64 or u8..u64)");
      good = false;
    } else {
      def.underlying = *p;
    }
    const toml::node* values_node = table.get("values");
    if (values_node == nullptr) {
      diagnostics.error(where, subject,
                        "missing 'values' (e.g. values = [\"ok\", \"failed\"] or [{name = \"ok\", value = 0}])");
      good = false;
    } else if (!values_node->is_array() || values_node->as_array()->empty()) {
      diagnostics.error(location_of(values_node->source()), subject,
                        "'values' must be a non-empty array of names or {name, value} tables");
      good = false;
    } else if (values_node->as_array()->size() > max_enum_values) {
      diagnostics.error(location_of(values_node->source()), subject,
                        "more than " + std::to_string(max_enum_values) + " values");
      good = false;
    } else {
      read_values(*values_node->as_array(), subject, def, good, diagnostics);
    }
    if (!good) {
      failed_types.insert(def.name);
      continue;
    }
    if (index.count(def.name) != 0) {
      diagnostics.error(where, subject,
                        "defined twice (first on line " + std::to_string(enums[index[def.name]].where.line) + ")");
      continue;
    }
    index.emplace(def.name, enums.size());
    enums.push_back(std::move(def));
  }
}

}  // namespace shmsnap::schemac
