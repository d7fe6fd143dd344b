// Where a Python publisher's schema comes from: a TOML schema file compiled
// in-process by the schema compiler library, a descriptor JSON string, or the
// schema of a topic a subscriber follows. Pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shmsnap/schema.hpp"

namespace shmsnap::python {

/// A schema owned by value (SchemaInfo only holds views).
struct OwnedSchema {
  std::string name;
  std::uint32_t version = 0;
  std::uint64_t fingerprint = 0;
  std::size_t size = 0;
  std::string descriptor;

  /// Views into this object; valid while it lives unchanged.
  [[nodiscard]] SchemaInfo info() const noexcept {
    return SchemaInfo{
        .name = name, .version = version, .fingerprint = fingerprint, .size = size, .descriptor = descriptor};
  }
};

/// Compiles the TOML schema file at `path`. Throws Error: not_found (no such file),
/// invalid_argument (the compiler's diagnostics: file, line, column, field).
[[nodiscard]] OwnedSchema schema_from_toml_file(const std::string& path);

/// A schema from descriptor JSON; the fingerprint is recomputed from the layout the
/// descriptor states, exactly as the compiler derives it. Throws Error{invalid_argument}.
[[nodiscard]] OwnedSchema schema_from_descriptor(std::string_view descriptor_json);

/// The fingerprint the schema compiler gives the layout described by `descriptor_json`.
[[nodiscard]] std::uint64_t fingerprint_of_descriptor(std::string_view descriptor_json);

}  // namespace shmsnap::python
