// Front end of shmsnap-schemac: TOML -> validated, laid-out Schema. Every problem
// becomes a Diagnostic naming file, line and field; nothing here throws for bad input.
#include "frontend.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

namespace shmsnap::schemac {

namespace {

constexpr std::string_view type_list_hint =
    "expected bool, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, char[N], "
    "or a struct or enum defined in this file";

// C++20 keywords and alternative tokens, plus object-like macros of the C and POSIX
// headers (and GNU-mode predefines) that would silently rewrite a generated member.
constexpr std::array<std::string_view, 103> reserved_words{
    "alignas",
    "alignof",
    "and",
    "and_eq",
    "asm",
    "auto",
    "bitand",
    "bitor",
    "bool",
    "break",
    "case",
    "catch",
    "char",
    "char8_t",
    "char16_t",
    "char32_t",
    "class",
    "compl",
    "concept",
    "const",
    "consteval",
    "constexpr",
    "constinit",
    "const_cast",
    "continue",
    "co_await",
    "co_return",
    "co_yield",
    "decltype",
    "default",
    "delete",
    "do",
    "double",
    "dynamic_cast",
    "else",
    "enum",
    "explicit",
    "export",
    "extern",
    "false",
    "float",
    "for",
    "friend",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "mutable",
    "namespace",
    "new",
    "noexcept",
    "not",
    "not_eq",
    "nullptr",
    "operator",
    "or",
    "or_eq",
    "private",
    "protected",
    "public",
    "register",
    "reinterpret_cast",
    "requires",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "static_assert",
    "static_cast",
    "struct",
    "switch",
    "template",
    "this",
    "thread_local",
    "throw",
    "true",
    "try",
    "typedef",
    "typeid",
    "typename",
    "union",
    "unsigned",
    "using",
    "virtual",
    "void",
    "volatile",
    "wchar_t",
    "while",
    "xor",
    "xor_eq",
    // object-like macros and predefines
    "NULL",
    "EOF",
    "errno",
    "stdin",
    "stdout",
    "stderr",
    "linux",
    "unix",
    "i386",
    // names the generated code itself relies on inside the struct
    "std",
    "shmsnap",
};

bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ascii_upper(char c) {
  return c >= 'A' && c <= 'Z';
}

std::string quote_name(std::string_view text) {
  // Names in messages may come from a hostile file: keep them printable and short.
  std::string out = "'";
  std::size_t shown = 0;
  for (const char c : text) {
    if (++shown > 80) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Why `name` cannot be a C++ identifier we emit, or empty when it can.
std::string identifier_problem(std::string_view name, bool member = true) {
  if (name.empty())
    return "the name is empty";
  if (name.size() > max_identifier_length) {
    return "the name is longer than " + std::to_string(max_identifier_length) + " characters";
  }
  if (!is_ascii_letter(name[0]) && name[0] != '_') {
    return "a name must start with a letter or '_'";
  }
  for (const char c : name) {
    if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '_') {
      return "a name may only contain letters, digits and '_' (found " + quote_name(std::string_view(&c, 1)) + ")";
    }
  }
  if (name.find("__") != std::string_view::npos || (name.size() > 1 && name[0] == '_' && is_ascii_upper(name[1]))) {
    return "names with '__' or starting with '_' and a capital letter are reserved in C++";
  }
  if (is_reserved_word(name)) {
    return "it is a C++ keyword or a standard macro";
  }
  if (member && name.rfind("shmsnap_", 0) == 0) {
    return "names starting with 'shmsnap_' are reserved for generated members";
  }
  return {};
}

std::string type_name_problem(std::string_view name) {
  std::string why = identifier_problem(name);
  if (why.empty() && !is_ascii_upper(name[0])) {
    why = "type names start with an upper-case letter (e.g. 'Vec3'), which keeps them apart from field names";
  }
  return why;
}

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

std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

// toml++ 3.3 reaches __builtin_unreachable() when it classifies some non-ASCII code
// points as whitespace (marzer/tomlplusplus#190, #295): undefined behaviour on
// input a user can type. Allowing non-ASCII only inside strings and comments was
// tried twice and the fuzzer found malformed text that made this scan and toml++
// disagree about where a string is each time, so schema files are plain ASCII.
// Returns where the first non-ASCII byte is.
std::optional<SourceLocation> unsafe_non_ascii(std::string_view text) {
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    } else if (static_cast<unsigned char>(text[i]) >= 0x80) {
      return SourceLocation{line, static_cast<int>(i - line_start + 1)};
    }
  }
  return std::nullopt;
}

// A field as written, before its type is resolved.
struct RawField {
  std::string name;
  std::string type_text;
  std::string doc;
  SourceLocation where;       // the field's table
  SourceLocation type_where;  // the type = "..." value
};

struct RawStruct {
  std::string name;
  std::string doc;
  SourceLocation where;
  std::vector<RawField> fields;
  bool usable = true;  // false when its definition already failed; uses of it then stay quiet
};

struct ParsedType {
  std::string base;
  std::vector<std::uint64_t> dims;  // as written, including a char length
};

class Compiler {
 public:
  explicit Compiler(std::string_view file) : file_(file) {}

  FrontendResult run(std::string_view text);

 private:
  void error(SourceLocation where, std::string subject, std::string message) {
    diagnostics_.push_back({file_, where, std::move(subject), std::move(message)});
  }

  void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                  const std::string& subject);
  std::optional<std::string> read_string(const toml::table& table, std::string_view key, const std::string& subject,
                                         SourceLocation fallback, bool required);
  void read_schema_name(const toml::table& root);
  void read_version(const toml::table& root);
  const toml::array* read_table_array(const toml::table& table, std::string_view key, const std::string& subject);
  void read_enums(const toml::table& root);
  void read_structs(const toml::table& root);
  std::vector<RawField> read_fields(const toml::table& table, const std::string& owner, SourceLocation owner_where);
  std::optional<ParsedType> parse_type(const RawField& field, const std::string& subject);
  void check_type_names();
  bool order_structs();
  bool resolve_and_layout(const RawStruct& raw, StructDef& out, const std::string& owner);
  void finish();

  std::string file_;
  std::vector<Diagnostic> diagnostics_;
  Schema schema_;
  SourceLocation name_where_;
  std::vector<RawStruct> raw_structs_;
  RawStruct raw_root_;
  std::map<std::string, std::size_t, std::less<>> struct_index_;  // name -> index into schema_.structs
  std::map<std::string, std::size_t, std::less<>> enum_index_;
  std::set<std::string, std::less<>> failed_types_;  // defined but invalid: no follow-up errors
};

void Compiler::check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                          const std::string& subject) {
  for (auto&& [key, node] : table) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
      std::string list;
      for (const auto a : allowed) {
        list += list.empty() ? "" : ", ";
        list += a;
      }
      error(location_of(key.source()), subject, "unknown key " + quote_name(key.str()) + " (expected " + list + ")");
    }
  }
}

std::optional<std::string> Compiler::read_string(const toml::table& table, std::string_view key,
                                                 const std::string& subject, SourceLocation fallback, bool required) {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    if (required)
      error(fallback, subject, "missing '" + std::string(key) + "'");
    return std::nullopt;
  }
  if (!node->is_string()) {
    error(location_of(node->source()), subject,
          "'" + std::string(key) + "' must be a string, not " + std::string(node_kind(*node)));
    return std::nullopt;
  }
  return node->as_string()->get();
}

void Compiler::read_schema_name(const toml::table& root) {
  const toml::node* node = root.get("name");
  if (node != nullptr)
    name_where_ = location_of(node->source());
  const auto name = read_string(root, "name", "schema", {1, 1}, true);
  if (!name)
    return;
  const std::string subject = "schema name " + quote_name(*name);
  if (name->empty()) {
    error(name_where_, "schema", "the name is empty (write e.g. name = \"market.quote_book\")");
    return;
  }
  if (name->size() > max_schema_name_length) {
    error(name_where_, subject,
          "longer than " + std::to_string(max_schema_name_length) + " characters (the region stores 64 bytes)");
    return;
  }
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name->find('.', start);
    parts.push_back(name->substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  for (const auto& part : parts) {
    bool good = !part.empty() && part[0] >= 'a' && part[0] <= 'z';
    for (const char c : part) {
      good = good && ((c >= 'a' && c <= 'z') || is_ascii_digit(c) || c == '_');
    }
    if (!good) {
      error(name_where_, subject,
            "each dot-separated part must be lower-case snake_case starting with a letter "
            "(e.g. market.quote_book); part " +
                quote_name(part) + " is not");
      return;
    }
    if (std::string why = identifier_problem(part, false); !why.empty()) {
      error(name_where_, subject, "part " + quote_name(part) + " cannot be a C++ namespace or type: " + why);
      return;
    }
  }
  schema_.name = *name;
  schema_.namespaces.assign(parts.begin(), parts.end() - 1);
  schema_.root.name = type_name_for(parts.back());
  schema_.root.where = name_where_;
}

void Compiler::read_version(const toml::table& root) {
  const toml::node* node = root.get("version");
  if (node == nullptr) {
    error({1, 1}, "schema", "missing 'version' (write e.g. version = 1; bump it on every change)");
    return;
  }
  const SourceLocation where = location_of(node->source());
  if (!node->is_integer()) {
    error(where, "schema", "'version' must be an integer, not " + std::string(node_kind(*node)));
    return;
  }
  const std::int64_t version = node->as_integer()->get();
  if (version < 1 || version > std::numeric_limits<std::uint32_t>::max()) {
    error(where, "schema", "'version' must be between 1 and 4294967295, not " + std::to_string(version));
    return;
  }
  schema_.version = static_cast<std::uint32_t>(version);
}

const toml::array* Compiler::read_table_array(const toml::table& table, std::string_view key,
                                              const std::string& subject) {
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
    error(location_of(node->source()), subject,
          "'" + std::string(key) + "' must be an array of tables ([[" + std::string(key) + "]] sections or " +
              std::string(key) + " = [{...}, ...]), not " + std::string(node_kind(*node)));
    return nullptr;
  }
  return array;
}

void Compiler::read_enums(const toml::table& root) {
  const toml::array* enums = read_table_array(root, "enum", "schema");
  if (enums == nullptr)
    return;
  for (const toml::node& element : *enums) {
    const toml::table& table = *element.as_table();
    const SourceLocation where = location_of(table.source());
    check_keys(table, {"name", "underlying", "values", "doc"}, "enum");
    const auto name = read_string(table, "name", "enum", where, true);
    if (!name)
      continue;
    const std::string subject = "enum " + quote_name(*name);
    EnumDef def;
    def.name = *name;
    def.where = where;
    def.doc = read_string(table, "doc", subject, where, false).value_or("");
    bool good = true;
    if (std::string why = type_name_problem(def.name); !why.empty()) {
      error(where, subject, "invalid name: " + why);
      good = false;
    }
    const auto underlying = read_string(table, "underlying", subject, where, true);
    if (!underlying) {
      good = false;
    } else if (const auto p = primitive_by_name(*underlying); !p || !is_integer(*p)) {
      const toml::node* node = table.get("underlying");
      error(location_of(node->source()), subject,
            "underlying type " + quote_name(*underlying) + " is not an integer type (expected i8..i64 or u8..u64)");
      good = false;
    } else {
      def.underlying = *p;
    }
    const toml::node* values_node = table.get("values");
    if (values_node == nullptr) {
      error(where, subject, "missing 'values' (e.g. values = [\"ok\", \"failed\"] or [{name = \"ok\", value = 0}])");
      good = false;
    } else if (!values_node->is_array() || values_node->as_array()->empty()) {
      error(location_of(values_node->source()), subject,
            "'values' must be a non-empty array of names or {name, value} tables");
      good = false;
    } else if (values_node->as_array()->size() > max_enum_values) {
      error(location_of(values_node->source()), subject, "more than " + std::to_string(max_enum_values) + " values");
      good = false;
    } else {
      // Implicit values continue from the previous one, as in C++.
      std::optional<std::int64_t> next = 0;
      std::map<std::string, SourceLocation, std::less<>> names;
      std::map<std::int64_t, std::string> numbers;
      for (const toml::node& value_node : *values_node->as_array()) {
        const SourceLocation value_where = location_of(value_node.source());
        EnumValue value;
        value.where = value_where;
        std::optional<std::int64_t> explicit_value;
        if (value_node.is_string()) {
          value.name = value_node.as_string()->get();
        } else if (value_node.is_table()) {
          const toml::table& value_table = *value_node.as_table();
          check_keys(value_table, {"name", "value", "doc"}, subject + " value");
          const auto value_name = read_string(value_table, "name", subject + " value", value_where, true);
          if (!value_name) {
            good = false;
            continue;
          }
          value.name = *value_name;
          if (const toml::node* number = value_table.get("value")) {
            if (!number->is_integer()) {
              error(location_of(number->source()), subject + " value " + quote_name(value.name),
                    "'value' must be an integer, not " + std::string(node_kind(*number)));
              good = false;
              continue;
            }
            explicit_value = number->as_integer()->get();
          }
        } else {
          error(value_where, subject,
                "each value must be a name or a {name, value} table, not " + std::string(node_kind(value_node)));
          good = false;
          continue;
        }
        const std::string value_subject = subject + " value " + quote_name(value.name);
        if (std::string why = identifier_problem(value.name); !why.empty()) {
          error(value_where, value_subject, "invalid name: " + why);
          good = false;
          continue;
        }
        if (explicit_value) {
          value.value = *explicit_value;
        } else if (next) {
          value.value = *next;
        } else {
          error(value_where, value_subject, "the implicit value after 9223372036854775807 overflows; give it a value");
          good = false;
          continue;
        }
        next = value.value == std::numeric_limits<std::int64_t>::max() ? std::nullopt
                                                                       : std::optional<std::int64_t>(value.value + 1);
        if (auto [it, fresh] = names.emplace(value.name, value_where); !fresh) {
          error(value_where, value_subject,
                "duplicate value name (first defined on line " + std::to_string(it->second.line) + ")");
          good = false;
          continue;
        }
        if (auto [it, fresh] = numbers.emplace(value.value, value.name); !fresh) {
          error(value_where, value_subject,
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
            error(value_where, value_subject,
                  "value " + std::to_string(value.value) + " does not fit " +
                      std::string(primitive_info(def.underlying).name) + " (" + std::to_string(low) + ".." +
                      std::to_string(high) + ")");
            good = false;
            continue;
          }
        } else if (def.underlying == Primitive::u64 && value.value < 0) {
          error(value_where, value_subject, "negative value " + std::to_string(value.value) + " in a u64 enum");
          good = false;
          continue;
        }
        def.values.push_back(std::move(value));
      }
    }
    if (!good) {
      failed_types_.insert(def.name);
      continue;
    }
    if (enum_index_.count(def.name) != 0) {
      error(where, subject,
            "defined twice (first on line " + std::to_string(schema_.enums[enum_index_[def.name]].where.line) + ")");
      continue;
    }
    enum_index_.emplace(def.name, schema_.enums.size());
    schema_.enums.push_back(std::move(def));
  }
}

std::vector<RawField> Compiler::read_fields(const toml::table& table, const std::string& owner,
                                            SourceLocation owner_where) {
  std::vector<RawField> fields;
  const toml::array* array = read_table_array(table, "field", owner);
  if (array == nullptr) {
    if (table.get("field") == nullptr) {
      error(owner_where, owner, "has no fields (add [[field]] sections with a name and a type)");
    }
    return fields;
  }
  if (array->empty()) {
    error(owner_where, owner, "has no fields");
    return fields;
  }
  if (array->size() > max_fields_per_struct) {
    error(owner_where, owner, "has more than " + std::to_string(max_fields_per_struct) + " fields");
    return fields;
  }
  std::map<std::string, int, std::less<>> seen;
  for (const toml::node& element : *array) {
    const toml::table& field_table = *element.as_table();
    RawField field;
    field.where = location_of(field_table.source());
    const std::string anonymous = owner.empty() ? "field" : owner + " field";
    check_keys(field_table, {"name", "type", "doc"}, anonymous);
    const auto name = read_string(field_table, "name", anonymous, field.where, true);
    if (!name)
      continue;
    field.name = *name;
    const std::string subject = (owner.empty() ? "field " : owner + " field ") + quote_name(field.name);
    if (const toml::node* name_node = field_table.get("name"))
      field.where = location_of(name_node->source());
    if (std::string why = identifier_problem(field.name); !why.empty()) {
      error(field.where, subject, "invalid field name: " + why);
      continue;
    }
    if (auto [it, fresh] = seen.emplace(field.name, field.where.line); !fresh) {
      error(field.where, subject, "duplicate field name (first defined on line " + std::to_string(it->second) + ")");
      continue;
    }
    const auto type = read_string(field_table, "type", subject, field.where, true);
    if (!type)
      continue;
    field.type_text = *type;
    field.type_where = location_of(field_table.get("type")->source());
    field.doc = read_string(field_table, "doc", subject, field.where, false).value_or("");
    fields.push_back(std::move(field));
  }
  return fields;
}

void Compiler::read_structs(const toml::table& root) {
  const toml::array* structs = read_table_array(root, "struct", "schema");
  if (structs == nullptr)
    return;
  for (const toml::node& element : *structs) {
    const toml::table& table = *element.as_table();
    RawStruct raw;
    raw.where = location_of(table.source());
    check_keys(table, {"name", "doc", "field"}, "struct");
    const auto name = read_string(table, "name", "struct", raw.where, true);
    if (!name)
      continue;
    raw.name = *name;
    if (const toml::node* name_node = table.get("name"))
      raw.where = location_of(name_node->source());
    const std::string subject = "struct " + quote_name(raw.name);
    if (std::string why = type_name_problem(raw.name); !why.empty()) {
      error(raw.where, subject, "invalid name: " + why);
      continue;
    }
    raw.doc = read_string(table, "doc", subject, raw.where, false).value_or("");
    const std::size_t errors_before = diagnostics_.size();
    raw.fields = read_fields(table, subject, raw.where);
    raw.usable = diagnostics_.size() == errors_before;
    raw_structs_.push_back(std::move(raw));
  }
}

void Compiler::check_type_names() {
  std::map<std::string, SourceLocation, std::less<>> seen;
  for (const auto& def : schema_.enums)
    seen.emplace(def.name, def.where);
  std::vector<RawStruct> unique;
  for (auto& raw : raw_structs_) {
    const std::string subject = "struct " + quote_name(raw.name);
    if (raw.name == schema_.root.name) {
      error(raw.where, subject, "has the name of the snapshot type itself (from the schema name); rename it");
      failed_types_.insert(raw.name);
      continue;
    }
    if (auto [it, fresh] = seen.emplace(raw.name, raw.where); !fresh) {
      error(raw.where, subject,
            "the type name is defined twice (first on line " + std::to_string(it->second.line) + ")");
      continue;
    }
    if (!raw.usable)
      failed_types_.insert(raw.name);
    unique.push_back(std::move(raw));
  }
  raw_structs_ = std::move(unique);
  for (const auto& def : schema_.enums) {
    if (def.name == schema_.root.name) {
      error(def.where, "enum " + quote_name(def.name), "has the name of the snapshot type itself; rename it");
    }
  }
}

std::optional<ParsedType> Compiler::parse_type(const RawField& field, const std::string& subject) {
  const std::string_view text = field.type_text;
  const auto fail = [&](const std::string& why) {
    error(field.type_where, subject, "bad type " + quote_name(text) + ": " + why);
    return std::nullopt;
  };
  std::size_t pos = 0;
  const auto skip_spaces = [&] {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t'))
      ++pos;
  };
  skip_spaces();
  ParsedType parsed;
  const std::size_t base_start = pos;
  while (pos < text.size() && (is_ascii_letter(text[pos]) || is_ascii_digit(text[pos]) || text[pos] == '_'))
    ++pos;
  parsed.base = std::string(text.substr(base_start, pos - base_start));
  if (parsed.base.empty()) {
    return fail(std::string(type_list_hint));
  }
  while (true) {
    skip_spaces();
    if (pos == text.size())
      break;
    if (text[pos] != '[')
      return fail("expected '[' or the end after " + quote_name(text.substr(0, pos)));
    ++pos;
    skip_spaces();
    const std::size_t digits_start = pos;
    std::uint64_t length = 0;
    bool too_large = false;
    while (pos < text.size() && is_ascii_digit(text[pos])) {
      length = length * 10 + static_cast<std::uint64_t>(text[pos] - '0');
      if (length > max_array_length)
        too_large = true;
      if (too_large)
        length = max_array_length + 1;  // saturate: only "too large" matters now
      ++pos;
    }
    if (pos == digits_start)
      return fail("an array length must be a decimal number, as in f64[10]");
    skip_spaces();
    if (pos == text.size() || text[pos] != ']')
      return fail("missing ']' after the array length");
    ++pos;
    if (length == 0)
      return fail("array length 0; a length must be at least 1");
    if (too_large) {
      return fail("array length " +
                  std::string(text.substr(digits_start, std::min<std::size_t>(pos - 1 - digits_start, 24))) +
                  " exceeds the limit of " + std::to_string(max_array_length));
    }
    parsed.dims.push_back(length);
    if (parsed.dims.size() > max_array_dimensions + 1) {
      return fail("more than " + std::to_string(max_array_dimensions) + " array dimensions");
    }
  }
  return parsed;
}

// Struct names a field's type refers to, read leniently: errors are for parse_type.
std::string base_name_of(std::string_view type_text) {
  std::size_t pos = 0;
  while (pos < type_text.size() && (type_text[pos] == ' ' || type_text[pos] == '\t'))
    ++pos;
  const std::size_t start = pos;
  while (pos < type_text.size() &&
         (is_ascii_letter(type_text[pos]) || is_ascii_digit(type_text[pos]) || type_text[pos] == '_')) {
    ++pos;
  }
  return std::string(type_text.substr(start, pos - start));
}

bool Compiler::order_structs() {
  if (raw_structs_.size() + schema_.enums.size() > max_types_per_file) {
    error({1, 1}, "schema", "more than " + std::to_string(max_types_per_file) + " structs and enums in one file");
    return false;
  }
  std::map<std::string, std::size_t, std::less<>> by_name;
  for (std::size_t i = 0; i < raw_structs_.size(); ++i)
    by_name.emplace(raw_structs_[i].name, i);

  // Depth-first search: a grey struct met again closes a cycle. Post-order gives every
  // struct after the structs it contains, which is the order C++ needs them defined in.
  enum class Mark : std::uint8_t { white, grey, black };
  std::vector<Mark> mark(raw_structs_.size(), Mark::white);
  std::vector<std::size_t> order;
  std::vector<std::size_t> path;
  bool good = true;
  const auto visit = [&](auto&& self, std::size_t index) -> void {
    mark[index] = Mark::grey;
    path.push_back(index);
    for (const RawField& field : raw_structs_[index].fields) {
      const auto it = by_name.find(base_name_of(field.type_text));
      if (it == by_name.end())
        continue;
      if (mark[it->second] == Mark::grey) {
        std::string cycle;
        const auto start = std::find(path.begin(), path.end(), it->second);
        for (auto step = start; step != path.end(); ++step)
          cycle += raw_structs_[*step].name + " -> ";
        cycle += raw_structs_[it->second].name;
        error(field.type_where, "struct " + quote_name(raw_structs_[index].name) + " field " + quote_name(field.name),
              "recursive nesting " + cycle + ": a struct cannot contain itself, directly or through others");
        for (auto step = start; step != path.end(); ++step)
          failed_types_.insert(raw_structs_[*step].name);
        good = false;
      } else if (mark[it->second] == Mark::white) {
        self(self, it->second);
      }
    }
    path.pop_back();
    mark[index] = Mark::black;
    order.push_back(index);
  };
  for (std::size_t i = 0; i < raw_structs_.size(); ++i) {
    if (mark[i] == Mark::white)
      visit(visit, i);
  }
  std::vector<RawStruct> sorted;
  sorted.reserve(order.size());
  for (const std::size_t index : order)
    sorted.push_back(std::move(raw_structs_[index]));
  raw_structs_ = std::move(sorted);
  return good;
}

bool Compiler::resolve_and_layout(const RawStruct& raw, StructDef& out, const std::string& owner) {
  out.name = raw.name;
  out.doc = raw.doc;
  out.where = raw.where;
  bool good = raw.usable;
  std::uint64_t offset = 0;
  std::uint64_t align = 1;
  for (const RawField& raw_field : raw.fields) {
    const std::string subject = (owner.empty() ? "field " : owner + " field ") + quote_name(raw_field.name);
    if (raw_field.name == schema_.root.name || struct_index_.count(raw_field.name) != 0 ||
        enum_index_.count(raw_field.name) != 0 ||
        std::any_of(raw_structs_.begin(), raw_structs_.end(),
                    [&](const RawStruct& s) { return s.name == raw_field.name; })) {
      error(raw_field.where, subject, "a field cannot have the name of a type in this schema");
      good = false;
      continue;
    }
    auto parsed = parse_type(raw_field, subject);
    if (!parsed) {
      good = false;
      continue;
    }
    FieldDef field;
    field.name = raw_field.name;
    field.type_text = raw_field.type_text;
    field.doc = raw_field.doc;
    field.where = raw_field.where;
    field.dims = parsed->dims;
    if (const auto primitive = primitive_by_name(parsed->base)) {
      field.kind = TypeKind::primitive;
      field.primitive = *primitive;
      if (*primitive == Primitive::character) {
        if (field.dims.empty()) {
          error(raw_field.type_where, subject,
                "bad type " + quote_name(raw_field.type_text) + ": 'char' needs a length: write char[N]");
          good = false;
          continue;
        }
        // As in C, the last dimension of a char array is the string length.
        field.char_length = field.dims.back();
        field.dims.pop_back();
        field.element_size = field.char_length;
        field.element_align = 1;
      } else {
        field.element_size = primitive_info(*primitive).size;
        field.element_align = field.element_size;
      }
    } else if (const auto s = struct_index_.find(parsed->base); s != struct_index_.end()) {
      field.kind = TypeKind::structure;
      field.type_index = s->second;
      field.element_size = schema_.structs[s->second].size;
      field.element_align = schema_.structs[s->second].align;
    } else if (const auto e = enum_index_.find(parsed->base); e != enum_index_.end()) {
      field.kind = TypeKind::enumeration;
      field.type_index = e->second;
      field.primitive = schema_.enums[e->second].underlying;
      field.element_size = primitive_info(field.primitive).size;
      field.element_align = field.element_size;
    } else {
      // A type that is defined but broken was reported where it is defined.
      if (failed_types_.count(parsed->base) == 0) {
        std::string hint;
        std::size_t best = 3;
        const auto consider = [&](std::string_view candidate) {
          const std::size_t distance = edit_distance(parsed->base, candidate);
          if (distance < best) {
            best = distance;
            hint = " (did you mean " + quote_name(candidate) + "?)";
          }
        };
        for (std::size_t i = 0; i < primitive_count; ++i)
          consider(primitive_info(static_cast<Primitive>(i)).name);
        for (const auto& [name, index] : struct_index_)
          consider(name);
        for (const auto& [name, index] : enum_index_)
          consider(name);
        error(raw_field.type_where, subject,
              "unknown type " + quote_name(parsed->base) + hint + "; " + std::string(type_list_hint));
      }
      good = false;
      continue;
    }
    if (field.dims.size() > max_array_dimensions) {
      error(raw_field.type_where, subject,
            "bad type " + quote_name(raw_field.type_text) + ": more than " + std::to_string(max_array_dimensions) +
                " array dimensions");
      good = false;
      continue;
    }
    // Sizes stay far below 2^64: every factor is at most 2^28 bytes or 2^20 elements,
    // and the running product is checked after each step.
    field.count = 1;
    bool too_large = field.element_size > max_snapshot_size;
    for (const std::uint64_t dim : field.dims) {
      field.count *= dim;
      too_large = too_large || field.count * field.element_size > max_snapshot_size;
      if (too_large)
        break;
    }
    field.size = field.count * field.element_size;
    offset = align_up(offset, field.element_align);
    too_large = too_large || offset + field.size > max_snapshot_size;
    if (too_large) {
      error(raw_field.type_where, subject,
            "the struct grows beyond the limit of " + std::to_string(max_snapshot_size) + " bytes");
      good = false;
      break;
    }
    field.offset = offset;
    offset += field.size;
    align = std::max(align, field.element_align);
    out.fields.push_back(std::move(field));
  }
  out.align = align;
  out.size = align_up(std::max<std::uint64_t>(offset, 1), align);
  return good;
}

// Canonical layout text: one line per struct and field, names and numbers only, so
// equal text means equal layout. The format is specified in schemas/README.md.
void append_canonical(const Schema& schema, const StructDef& def, std::string& out) {
  out += "struct " + def.name + " size=" + std::to_string(def.size) + " align=" + std::to_string(def.align) +
         " fields=" + std::to_string(def.fields.size()) + "\n";
  for (const FieldDef& field : def.fields) {
    out += "field " + field.name + " type=";
    switch (field.kind) {
      case TypeKind::primitive:
        out += primitive_info(field.primitive).name;
        break;
      case TypeKind::structure:
        out += "struct";
        break;
      case TypeKind::enumeration:
        out += "enum";
        break;
    }
    out += " offset=" + std::to_string(field.offset) + " size=" + std::to_string(field.size);
    if (field.is_array())
      out += " count=" + std::to_string(field.count);
    if (field.dims.size() > 1) {
      out += " dims=";
      for (std::size_t i = 0; i < field.dims.size(); ++i)
        out += (i == 0 ? "" : "x") + std::to_string(field.dims[i]);
    }
    if (field.primitive == Primitive::character && field.kind == TypeKind::primitive) {
      out += " length=" + std::to_string(field.char_length);
    }
    out += "\n";
    if (field.kind == TypeKind::structure) {
      append_canonical(schema, schema.structs[field.type_index], out);
      out += "end\n";
    } else if (field.kind == TypeKind::enumeration) {
      const EnumDef& def_enum = schema.enums[field.type_index];
      out +=
          "enum " + def_enum.name + " underlying=" + std::string(primitive_info(def_enum.underlying).name) + " values=";
      for (std::size_t i = 0; i < def_enum.values.size(); ++i) {
        out += (i == 0 ? "" : ",") + def_enum.values[i].name + ":" + std::to_string(def_enum.values[i].value);
      }
      out += "\n";
    }
  }
}

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

void Compiler::finish() {
  std::vector<std::size_t> depth_memo(schema_.structs.size(), 0);
  if (const std::size_t depth = nesting_depth(schema_, schema_.root, depth_memo); depth > max_nesting_depth) {
    error(name_where_, "schema " + quote_name(schema_.name),
          "structs nest " + std::to_string(depth) + " levels deep; the limit is " + std::to_string(max_nesting_depth));
    return;
  }
  std::vector<std::uint64_t> memo(schema_.structs.size(), 0);
  if (const std::uint64_t count = expanded_fields(schema_, schema_.root, memo); count > max_descriptor_fields) {
    error(name_where_, "schema " + quote_name(schema_.name),
          "the descriptor would hold more than " + std::to_string(max_descriptor_fields) +
              " fields (a nested struct is written out at every use); flatten or share fewer structs");
    return;
  }
  schema_.canonical_layout = "shmsnap-layout 1\nschema " + schema_.name + "\n";
  append_canonical(schema_, schema_.root, schema_.canonical_layout);
  schema_.fingerprint = fnv1a64(schema_.canonical_layout);

  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%016llx", static_cast<unsigned long long>(schema_.fingerprint));
  nlohmann::ordered_json descriptor;
  descriptor["name"] = schema_.name;
  descriptor["version"] = schema_.version;
  descriptor["size"] = schema_.root.size;
  descriptor["align"] = schema_.root.align;
  descriptor["fingerprint"] = hex;
  descriptor["fields"] = struct_fields_json(schema_, schema_.root);
  schema_.descriptor_json = descriptor.dump();
  if (schema_.descriptor_json.size() > max_descriptor_bytes) {
    error(name_where_, "schema " + quote_name(schema_.name),
          "the descriptor is " + std::to_string(schema_.descriptor_json.size()) + " bytes; the region holds at most " +
              std::to_string(max_descriptor_bytes));
  }
}

FrontendResult Compiler::run(std::string_view text) {
  FrontendResult result;
  if (text.size() > max_source_bytes) {
    error({}, "", "the file is larger than " + std::to_string(max_source_bytes) + " bytes; is it really a schema?");
    result.diagnostics = std::move(diagnostics_);
    return result;
  }
  if (const auto where = unsafe_non_ascii(text)) {
    error(*where, "",
          "non-ASCII character: schema files are ASCII, doc strings and comments included "
          "(the TOML parser mishandles some UTF-8)");
    result.diagnostics = std::move(diagnostics_);
    return result;
  }
  toml::table root;
  try {
    root = toml::parse(text, file_);
  } catch (const toml::parse_error& e) {
    error(location_of(e.source()), "", "not a valid TOML file: " + std::string(e.description()));
    result.diagnostics = std::move(diagnostics_);
    return result;
  }
  schema_.source_file = file_;
  schema_.root.name = "Snapshot";  // replaced by the schema name; keeps checking going without one
  check_keys(root, {"name", "version", "doc", "field", "struct", "enum"}, "schema");
  read_schema_name(root);
  read_version(root);
  schema_.root.doc = read_string(root, "doc", "schema", {1, 1}, false).value_or("");
  read_enums(root);
  read_structs(root);
  raw_root_.name = schema_.root.name;
  raw_root_.where = name_where_;
  raw_root_.doc = schema_.root.doc;
  {
    const std::size_t errors_before = diagnostics_.size();
    raw_root_.fields = read_fields(root, "", name_where_);
    raw_root_.usable = diagnostics_.size() == errors_before;
  }
  check_type_names();
  if (order_structs()) {
    for (const RawStruct& raw : raw_structs_) {
      if (failed_types_.count(raw.name) != 0)
        continue;
      StructDef def;
      if (resolve_and_layout(raw, def, "struct " + quote_name(raw.name))) {
        struct_index_.emplace(def.name, schema_.structs.size());
        schema_.structs.push_back(std::move(def));
      } else {
        failed_types_.insert(raw.name);
      }
    }
    const std::string root_name = schema_.root.name;
    const std::string root_doc = schema_.root.doc;
    const SourceLocation root_where = schema_.root.where;
    StructDef root_def;
    resolve_and_layout(raw_root_, root_def, "");
    schema_.root = std::move(root_def);
    schema_.root.name = root_name;
    schema_.root.doc = root_doc;
    schema_.root.where = root_where;
  }
  if (diagnostics_.empty())
    finish();
  if (diagnostics_.empty()) {
    result.schema = std::move(schema_);
  } else {
    // Report in file order, whatever order the checks ran in.
    std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
    });
    result.diagnostics = std::move(diagnostics_);
  }
  return result;
}

}  // namespace

bool is_reserved_word(std::string_view name) {
  return std::find(reserved_words.begin(), reserved_words.end(), name) != reserved_words.end();
}

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (where.line > 0) {
    out += ":" + std::to_string(where.line);
    if (where.column > 0)
      out += ":" + std::to_string(where.column);
  }
  out += ": error: ";
  if (!subject.empty())
    out += subject + ": ";
  out += message;
  return out;
}

std::string FrontendResult::message() const {
  std::string out;
  for (const auto& diagnostic : diagnostics)
    out += diagnostic.to_string() + "\n";
  return out;
}

FrontendResult compile_schema_text(std::string_view text, std::string_view source_file) {
  return Compiler(source_file).run(text);
}

FrontendResult compile_schema_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string text;
  if (in) {
    // Read one byte past the limit so an oversized file is refused by run(), not read whole.
    text.resize(max_source_bytes + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
  }
  if (!in && !in.eof()) {
    FrontendResult result;
    result.diagnostics.push_back({file.string(), {}, "", "cannot read the file (does it exist and is it readable?)"});
    return result;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    FrontendResult result;
    result.diagnostics.push_back({file.string(), {}, "", "is a directory, not a schema file"});
    return result;
  }
  return compile_schema_text(text, file.string());
}

std::string header_file_name(std::string_view schema_name) {
  std::string out(schema_name);
  std::replace(out.begin(), out.end(), '.', '_');
  return out + ".hpp";
}

std::string type_name_for(std::string_view name_part) {
  std::string out;
  bool upper = true;
  for (const char c : name_part) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

}  // namespace shmsnap::schemac
