// C++ name rules: the words a generated header cannot use, what makes a schema name a
// usable identifier or type name, and how schema names become C++ type and file names.
#include "identifiers.hpp"

#include <algorithm>
#include <array>

#include "diagnostics.hpp"
#include "frontend.hpp"

namespace shmsnap::schemac {

namespace {

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
bool is_ascii_upper(char c) {
  return c >= 'A' && c <= 'Z';
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

}  // namespace

bool is_reserved_word(std::string_view name) {
  return std::find(reserved_words.begin(), reserved_words.end(), name) != reserved_words.end();
}

std::string identifier_problem(std::string_view name, bool member) {
  if (name.empty())
    return "the name is empty";
  if (name.size() > max_identifier_length) {
    return "the name is longer than " + std::to_string(max_identifier_length) + " characters";
  }
  if (!is_ascii_letter(name[0]) && name[0] != '_') {
    return "a name must start with a letter or '_'";
  }
  for (const char c : name) {
    if (!is_identifier_char(c)) {
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

std::string did_you_mean(std::string_view name, const std::vector<std::string_view>& candidates) {
  std::string hint;
  std::size_t best = 3;
  for (const std::string_view candidate : candidates) {
    const std::size_t distance = edit_distance(name, candidate);
    if (distance < best) {
      best = distance;
      hint = " (did you mean " + quote_name(candidate) + "?)";
    }
  }
  return hint;
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
