// Diagnostics: how they are ordered, printed, and how they quote the file's text.
#include "diagnostics.hpp"

#include <algorithm>
#include <cstdio>

namespace shmsnap::schemac {

std::vector<Diagnostic> DiagnosticList::take_in_file_order() {
  // Report in file order, whatever order the checks ran in.
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
  });
  return std::exchange(diagnostics_, {});
}

std::string quote_name(std::string_view text) {
  std::string out = "'";
  std::size_t shown = 0;
  for (const char c : text) {
    if (++shown > 80) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (where.line > 0) {
    out += ":" + std::to_string(where.line);
    if (where.column > 0)
      out += ":" + std::to_string(where.column);
  }
  out += ": error: ";
  if (!subject.empty())
    out += subject + ": ";
  out += message;
  return out;
}

}  // namespace shmsnap::schemac
