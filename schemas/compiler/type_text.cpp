// The type-text parser; see type_text.hpp.
#include "type_text.hpp"

#include <algorithm>
#include <utility>

#include "diagnostics.hpp"
#include "identifiers.hpp"
#include "schema_model.hpp"

namespace shmsnap::schemac {

std::optional<ParsedType> parse_type_text(std::string_view text, std::string& why_not) {
  const auto fail = [&](std::string why) {
    why_not = std::move(why);
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
  while (pos < text.size() && is_identifier_char(text[pos]))
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

std::string base_name_of(std::string_view type_text) {
  std::size_t pos = 0;
  while (pos < type_text.size() && (type_text[pos] == ' ' || type_text[pos] == '\t'))
    ++pos;
  const std::size_t start = pos;
  while (pos < type_text.size() && is_identifier_char(type_text[pos]))
    ++pos;
  return std::string(type_text.substr(start, pos - start));
}

}  // namespace shmsnap::schemac
