// How the front end reports a problem: the list one compile collects its diagnostics
// in, and the one way a message quotes text taken from the schema file. A list
// belongs to one compile; nothing here is shared between threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "schema_model.hpp"

namespace shmsnap::schemac {

/// The diagnostics of one schema file, in the order the checks found them.
class DiagnosticList {
 public:
  explicit DiagnosticList(std::string file) : file_(std::move(file)) {}

  /// Records an error at `where` about `subject` (may be empty).
  void error(SourceLocation where, std::string subject, std::string message) {
    diagnostics_.push_back({file_, where, std::move(subject), std::move(message)});
  }

  /// The file name every diagnostic carries.
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  /// How many errors so far: a pass compares counts to learn whether it added any.
  [[nodiscard]] std::size_t count() const noexcept { return diagnostics_.size(); }
  [[nodiscard]] bool empty() const noexcept { return diagnostics_.empty(); }

  /// Hands the diagnostics over sorted by line and column (stable, so one place keeps
  /// the order its checks ran in) and leaves the list empty.
  [[nodiscard]] std::vector<Diagnostic> take_in_file_order();

 private:
  std::string file_;
  std::vector<Diagnostic> diagnostics_;
};

/// `text` in single quotes for a message, control characters escaped and cut after
/// 80 characters: names in messages may come from a hostile file.
[[nodiscard]] std::string quote_name(std::string_view text);

}  // namespace shmsnap::schemac
