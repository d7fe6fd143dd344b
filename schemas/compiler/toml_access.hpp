// Reading values out of parsed TOML for the schema readers: each helper reports a
// missing, misspelt or mistyped key as a diagnostic at the key's line and column
// and hands back nothing, so a reader checks one result instead of the node types.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "diagnostics.hpp"
#include "schema_model.hpp"

namespace shmsnap::schemac {

/// What a node holds, for messages: "a table", "an integer", ...
[[nodiscard]] std::string_view node_kind(const toml::node& node);

/// Where a node starts in the file.
[[nodiscard]] SourceLocation location_of(const toml::source_region& region);

/// Reports every key of `table` that is not in `allowed`, listing the allowed ones.
void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed, const std::string& subject,
                DiagnosticList& diagnostics);

/// The string under `key`. Absent: nullopt, reported at `fallback` when `required`.
/// Not a string: nullopt, always reported.
[[nodiscard]] std::optional<std::string> read_string(const toml::table& table, std::string_view key,
                                                     const std::string& subject, SourceLocation fallback, bool required,
                                                     DiagnosticList& diagnostics);

/// The array of tables under `key` ([[key]] sections or key = [{...}]); nullptr when
/// absent (not reported) or not an array of tables (reported).
[[nodiscard]] const toml::array* read_table_array(const toml::table& table, std::string_view key,
                                                  const std::string& subject, DiagnosticList& diagnostics);

}  // namespace shmsnap::schemac
