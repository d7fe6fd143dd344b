// Text that came from outside (a region's header, a subscriber table, a queue) made
// safe to print or to put in JSON. Pure function; callable from any thread.
#pragma once

#include <string>
#include <string_view>

namespace shmsnap {

/// `text` with every byte outside printable ASCII written as \xNN (and a backslash
/// as \\): the result is valid UTF-8 and carries no terminal escape sequence, and
/// text that was printable ASCII comes back unchanged.
[[nodiscard]] std::string printable(std::string_view text);

/// `text` with every byte that is not part of well-formed UTF-8 (Unicode Table 3-7: no
/// overlong forms, no surrogates, nothing above U+10FFFF) replaced by one U+FFFD per
/// byte: the project's rule for outside text in JSON, which nlohmann::json refuses
/// to dump when invalid. Valid UTF-8, control characters included, comes back unchanged.
[[nodiscard]] std::string valid_utf8(std::string_view text);

}  // namespace shmsnap
