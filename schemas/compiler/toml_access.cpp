// The TOML helpers every schema reader uses; see toml_access.hpp.
#include "toml_access.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace shmsnap::schemac {

std::string_view node_kind(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

SourceLocation location_of(const toml::source_region& region) {
  return {static_cast<int>(std::min<std::uint64_t>(region.begin.line, std::numeric_limits<int>::max())),
          static_cast<int>(std::min<std::uint64_t>(region.begin.column, std::numeric_limits<int>::max()))};
}

void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed, const std::string& subject,
                DiagnosticList& diagnostics) {
  for (auto&& [key, node] : table) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
      std::string list;
      for (const auto a : allowed) {
        list += list.empty() ? "" : ", ";
        list += a;
      }
      diagnostics.error(location_of(key.source()), subject,
                        "unknown key " + quote_name(key.str()) + " (expected " + list + ")");
    }
  }
}

std::optional<std::string> read_string(const toml::table& table, std::string_view key, const std::string& subject,
                                       SourceLocation fallback, bool required, DiagnosticList& diagnostics) {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    if (required)
      diagnostics.error(fallback, subject, "missing '" + std::string(key) + "'");
    return std::nullopt;
  }
  if (!node->is_string()) {
    diagnostics.error(location_of(node->source()), subject,
                      "'" + std::string(key) + "' must be a string, not " + std::string(node_kind(*node)));
    return std::nullopt;
  }
  return node->as_string()->get();
}

const toml::array* read_table_array(const toml::table& table, std::string_view key, const std::string& subject,
                                    DiagnosticList& diagnostics) {
  const toml::node* node = table.get(key);
  if (node == nullptr)
    return nullptr;
  const toml::array* array = node->as_array();
  bool good = array != nullptr;
  if (good) {
    for (const toml::node& element : *array)
      good = good && element.is_table();
  }
  if (!good) {
    diagnostics.error(location_of(node->source()), subject,
                      "'" + std::string(key) + "' must be an array of tables ([[" + std::string(key) +
                          "]] sections or " + std::string(key) + " = [{...}, ...]), not " +
                          std::string(node_kind(*node)));
    return nullptr;
  }
  return array;
}

}  // namespace shmsnap::schemac
