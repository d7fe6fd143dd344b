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

}  // namespace shmsnap
