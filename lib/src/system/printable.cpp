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

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t need = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      low = c == 0xe0 ? 0xa0 : low;    // overlong below U+0800
      high = c == 0xed ? 0x9f : high;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      low = c == 0xf0 ? 0x90 : low;    // overlong below U+10000
      high = c == 0xf4 ? 0x8f : high;  // above U+10FFFF
    }
    bool good = need > 0 && need < text.size() - i;
    for (std::size_t k = 1; good && k <= need; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      good = k == 1 ? (next >= low && next <= high) : (next >= 0x80 && next <= 0xbf);
    }
    if (good) {
      out.append(text.substr(i, need + 1));
      i += need + 1;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

}  // namespace shmsnap
