// shmsnap-schemac command line: compile every file first, write nothing unless all
// of them compiled, and rewrite a header only when its text changed so a rebuild
// after touching a schema recompiles only what really depends on it.
#include "cli.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "emit.hpp"
#include "frontend.hpp"

namespace shmsnap::schemac {

namespace {

// Writes `text` to `path` unless it already holds exactly that; via a temporary file
// and rename so a concurrent reader (a parallel compile) never sees half a header.
bool write_if_changed(const std::filesystem::path& path, const std::string& text, std::ostream& err) {
  {
    std::ifstream existing(path, std::ios::binary);
    if (existing) {
      std::ostringstream current;
      current << existing.rdbuf();
      if (current.str() == text)
        return true;
    }
  }
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
      err << "shmsnap-schemac: error: cannot write " << temporary.string() << " (is the directory writable?)\n";
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    err << "shmsnap-schemac: error: cannot rename " << temporary.string() << " to " << path.string() << ": "
        << ec.message() << "\n";
    std::filesystem::remove(temporary, ec);
    return false;
  }
  return true;
}

}  // namespace

int run_schemac(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "shmsnap-schemac: compiles shmsnap schema files (TOML) into C++ snapshot headers.\n"
      "Each FILE.toml with name = \"a.b_c\" becomes DIR/a_b_c.hpp defining a::BC."};
  std::vector<std::string> files;
  std::string out_dir;
  bool check_only = false;
  bool print_descriptor = false;
  bool print_layout = false;
  bool verbose = false;
  app.add_option("files", files, "schema files (.toml)")->required();
  app.add_option("-o,--out-dir", out_dir, "directory for the generated headers (created if missing)");
  app.add_flag("--check", check_only, "only validate the schemas; write nothing");
  app.add_flag("--print-descriptor", print_descriptor, "print each schema's descriptor JSON to stdout");
  app.add_flag("--print-layout", print_layout,
               "print each schema's canonical layout text (what the fingerprint hashes)");
  app.add_flag("-v,--verbose", verbose, "say what was written");
  app.set_version_flag("--version", "shmsnap-schemac 1");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return code == 0 ? exit_ok : exit_usage;
  }
  if (out_dir.empty() && !check_only && !print_descriptor && !print_layout) {
    err << "shmsnap-schemac: error: nothing to do; give --out-dir DIR to write headers or --check to validate\n";
    return exit_usage;
  }

  std::vector<Schema> schemas;
  bool failed = false;
  std::map<std::string, std::string> file_of_name;
  for (const auto& file : files) {
    FrontendResult result = compile_schema_file(file);
    if (!result.ok()) {
      err << result.message();
      failed = true;
      continue;
    }
    if (auto [it, fresh] = file_of_name.emplace(result.schema->name, file); !fresh) {
      err << file << ": error: schema " << result.schema->name << " is also defined in " << it->second
          << "; both would write " << header_file_name(result.schema->name) << "\n";
      failed = true;
      continue;
    }
    schemas.push_back(std::move(*result.schema));
  }
  if (failed)
    return exit_schema_error;

  for (const auto& schema : schemas) {
    if (print_layout)
      out << schema.canonical_layout;
    if (print_descriptor)
      out << nlohmann::json::parse(schema.descriptor_json).dump(2) << "\n";
  }
  if (check_only || out_dir.empty())
    return exit_ok;

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    err << "shmsnap-schemac: error: cannot create the output directory " << out_dir << ": " << ec.message() << "\n";
    return exit_schema_error;
  }
  for (const auto& schema : schemas) {
    const std::filesystem::path path = std::filesystem::path(out_dir) / header_file_name(schema.name);
    if (!write_if_changed(path, emit_header(schema), err))
      return exit_schema_error;
    if (verbose) {
      out << "shmsnap-schemac: " << schema.source_file << " -> " << path.string() << " ("
          << schema.qualified_type_name() << ", " << schema.root.size << " bytes)\n";
    }
  }
  return exit_ok;
}

}  // namespace shmsnap::schemac
