#include "shmsnap/printable.hpp"

#include <cstdio>

namespace shmsnap {

std::string printable(std::string_view text) {
  std::string safe;
  safe.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == '\\') {
      safe += "\\\\";
    } else if (byte >= 0x20 && byte < 0x7f) {
      safe += c;
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      safe += escaped;
    }
  }
  return safe;
}

}  // namespace shmsnap
