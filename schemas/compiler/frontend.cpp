// Front end of shmsnap-schemac: TOML -> validated, laid-out Schema. Every problem
// becomes a Diagnostic naming file, line and field; nothing here throws for bad input.
// This file is the driver; each pass lives in a file named for it:
//   toml_access       keys and values out of the parsed TOML, with located diagnostics
//   enum_reader       [[enum]] tables
//   struct_reader     [[struct]] and [[field]] tables
//   identifiers       C++ name rules and "did you mean" hints
//   type_text         "f64[4][4]" -> base name and dimensions
//   layout            type resolution, struct order, offsets and sizes
//   canonical_layout  the text the fingerprint hashes
//   descriptor_json   the descriptor JSON and the limits that keep it small
//   diagnostics       how a problem is recorded and quoted
#include "frontend.hpp"

#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <utility>

#include <toml++/toml.h>

#include "canonical_layout.hpp"
#include "descriptor_json.hpp"
#include "diagnostics.hpp"
#include "enum_reader.hpp"
#include "identifiers.hpp"
#include "layout.hpp"
#include "struct_reader.hpp"
#include "toml_access.hpp"

namespace shmsnap::schemac {

namespace {

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

// One compile: the passes in order, and what they hand each other.
class Compiler {
 public:
  explicit Compiler(std::string_view file) : diagnostics_(std::string(file)) {}

  FrontendResult run(std::string_view text);

 private:
  void read_schema_name(const toml::table& root);
  void read_version(const toml::table& root);
  void read_root_fields(const toml::table& root);
  void check_type_names();
  void finish();

  DiagnosticList diagnostics_;
  Schema schema_;
  SourceLocation name_where_;
  std::vector<RawStruct> raw_structs_;
  RawStruct raw_root_;
  FailedTypes failed_types_;
};

void Compiler::read_schema_name(const toml::table& root) {
  const toml::node* node = root.get("name");
  if (node != nullptr)
    name_where_ = location_of(node->source());
  const auto name = read_string(root, "name", "schema", {1, 1}, true, diagnostics_);
  if (!name)
    return;
  const std::string subject = "schema name " + quote_name(*name);
  if (name->empty()) {
    diagnostics_.error(name_where_, "schema", "the name is empty (write e.g. name = \"market.quote_book\")");
    return;
  }
  if (name->size() > max_schema_name_length) {
    diagnostics_.error(
        name_where_, subject,
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
      diagnostics_.error(name_where_, subject,
                         "each dot-separated part must be lower-case snake_case starting with a letter "
                         "(e.g. market.quote_book); part " +
                             quote_name(part) + " is not");
      return;
    }
    if (std::string why = identifier_problem(part, false); !why.empty()) {
      diagnostics_.error(name_where_, subject,
                         "part " + quote_name(part) + " cannot be a C++ namespace or type: " + why);
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
    diagnostics_.error({1, 1}, "schema", "missing 'version' (write e.g. version = 1; bump it on every change)");
    return;
  }
  const SourceLocation where = location_of(node->source());
  if (!node->is_integer()) {
    diagnostics_.error(where, "schema", "'version' must be an integer, not " + std::string(node_kind(*node)));
    return;
  }
  const std::int64_t version = node->as_integer()->get();
  if (version < 1 || version > std::numeric_limits<std::uint32_t>::max()) {
    diagnostics_.error(where, "schema", "'version' must be between 1 and 4294967295, not " + std::to_string(version));
    return;
  }
  schema_.version = static_cast<std::uint32_t>(version);
}

void Compiler::read_root_fields(const toml::table& root) {
  raw_root_.name = schema_.root.name;
  raw_root_.where = name_where_;
  raw_root_.doc = schema_.root.doc;
  const std::size_t errors_before = diagnostics_.count();
  raw_root_.fields = read_fields(root, "", name_where_, diagnostics_);
  raw_root_.usable = diagnostics_.count() == errors_before;
}

void Compiler::check_type_names() {
  std::map<std::string, SourceLocation, std::less<>> seen;
  for (const auto& def : schema_.enums)
    seen.emplace(def.name, def.where);
  std::vector<RawStruct> unique;
  for (auto& raw : raw_structs_) {
    const std::string subject = "struct " + quote_name(raw.name);
    if (raw.name == schema_.root.name) {
      diagnostics_.error(raw.where, subject,
                         "has the name of the snapshot type itself (from the schema name); rename it");
      failed_types_.insert(raw.name);
      continue;
    }
    if (auto [it, fresh] = seen.emplace(raw.name, raw.where); !fresh) {
      diagnostics_.error(raw.where, subject,
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
      diagnostics_.error(def.where, "enum " + quote_name(def.name),
                         "has the name of the snapshot type itself; rename it");
    }
  }
}

void Compiler::finish() {
  if (!nesting_within_limits(schema_, name_where_, diagnostics_))
    return;
  schema_.canonical_layout = canonical_layout_text(schema_);
  schema_.fingerprint = fnv1a64(schema_.canonical_layout);
  build_descriptor_json(schema_, name_where_, diagnostics_);
}

FrontendResult Compiler::run(std::string_view text) {
  FrontendResult result;
  if (text.size() > max_source_bytes) {
    diagnostics_.error(
        {}, "", "the file is larger than " + std::to_string(max_source_bytes) + " bytes; is it really a schema?");
    result.diagnostics = diagnostics_.take_in_file_order();
    return result;
  }
  if (const auto where = unsafe_non_ascii(text)) {
    diagnostics_.error(*where, "",
                       "non-ASCII character: schema files are ASCII, doc strings and comments included "
                       "(the TOML parser mishandles some UTF-8)");
    result.diagnostics = diagnostics_.take_in_file_order();
    return result;
  }
  toml::table root;
  try {
    root = toml::parse(text, diagnostics_.file());
  } catch (const toml::parse_error& e) {
    diagnostics_.error(location_of(e.source()), "", "not a valid TOML file: " + std::string(e.description()));
    result.diagnostics = diagnostics_.take_in_file_order();
    return result;
  }
  schema_.source_file = diagnostics_.file();
  schema_.root.name = "Snapshot";  // replaced by the schema name; keeps checking going without one
  check_keys(root, {"name", "version", "doc", "field", "struct", "enum"}, "schema", diagnostics_);
  read_schema_name(root);
  read_version(root);
  schema_.root.doc = read_string(root, "doc", "schema", {1, 1}, false, diagnostics_).value_or("");
  read_enums(root, schema_.enums, failed_types_, diagnostics_);
  raw_structs_ = read_structs(root, diagnostics_);
  read_root_fields(root);
  check_type_names();
  lay_out_structs(raw_structs_, raw_root_, failed_types_, schema_, diagnostics_);
  if (diagnostics_.empty())
    finish();
  if (diagnostics_.empty()) {
    result.schema = std::move(schema_);
  } else {
    result.diagnostics = diagnostics_.take_in_file_order();
  }
  return result;
}

}  // namespace

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

}  // namespace shmsnap::schemac
