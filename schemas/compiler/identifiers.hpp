// C++ name rules for what the schema compiler emits: which schema names can become a
// member, enumerator, type or namespace, and the "did you mean" hint for a misspelt
// type. is_reserved_word(), type_name_for() and header_file_name(), which the back end
// uses too, are declared in frontend.hpp and defined with these. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace shmsnap::schemac {

/// True for '0'..'9'.
[[nodiscard]] constexpr bool is_ascii_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

/// True for what an emitted identifier may contain: ASCII letters, digits and '_'.
[[nodiscard]] constexpr bool is_identifier_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_ascii_digit(c) || c == '_';
}

/// Why `name` cannot be a C++ identifier we emit, or empty when it can. A `member`
/// (field or enum value) may not take the 'shmsnap_' prefix of generated members.
[[nodiscard]] std::string identifier_problem(std::string_view name, bool member = true);

/// Why `name` cannot name a struct or enum, or empty when it can: identifier_problem()
/// plus the upper-case first letter that keeps types apart from fields.
[[nodiscard]] std::string type_name_problem(std::string_view name);

/// " (did you mean 'X'?)" for the candidate fewest edits away from `name`, at most two
/// and the earliest on a tie; empty when none is that close.
[[nodiscard]] std::string did_you_mean(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace shmsnap::schemac
