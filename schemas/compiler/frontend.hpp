// Front end of shmsnap-schemac: parses a TOML schema, validates every name and type,
// lays the structs out with natural C++ alignment and derives the fingerprint and
// descriptor. Pure functions of their input; callable from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema_model.hpp"

namespace shmsnap::schemac {

/// The outcome of compiling one file: a schema, or the reasons there is none.
struct FrontendResult {
  std::optional<Schema> schema;  ///< set exactly when diagnostics is empty
  std::vector<Diagnostic> diagnostics;

  /// True when the schema compiled.
  [[nodiscard]] bool ok() const noexcept { return schema.has_value(); }
  /// Every diagnostic on its own line (empty when ok()).
  [[nodiscard]] std::string message() const;
};

/// Compiles schema text. `source_file` is only used to name the file in diagnostics.
/// Never throws for bad input: every problem becomes a diagnostic.
[[nodiscard]] FrontendResult compile_schema_text(std::string_view text, std::string_view source_file);

/// Reads and compiles a schema file; an unreadable file is a diagnostic too.
[[nodiscard]] FrontendResult compile_schema_file(const std::filesystem::path& file);

/// The header file a schema compiles to: the dotted name with '.' replaced by '_'
/// and ".hpp" appended ("market.quote_book" -> "market_quote_book.hpp").
[[nodiscard]] std::string header_file_name(std::string_view schema_name);

/// The C++ type name of a name part: snake_case to CamelCase ("quote_book" -> "QuoteBook").
[[nodiscard]] std::string type_name_for(std::string_view name_part);

/// FNV-1a, 64-bit: the fingerprint hash. constexpr so generated code could recheck it.
[[nodiscard]] constexpr std::uint64_t fnv1a64(std::string_view text) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

/// True for C++ keywords, alternative tokens and names the C/C++ libraries define
/// as macros (errno, NULL, linux, ...): none of them can name a generated member.
[[nodiscard]] bool is_reserved_word(std::string_view name);

}  // namespace shmsnap::schemac
