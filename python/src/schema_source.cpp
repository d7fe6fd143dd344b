// Schema loading for Python publishers. TOML goes through the schema compiler's own
// front end (shmsnap_schemac_lib), so a Python publisher and a generated C++ type of
// the same file agree byte for byte. A bare descriptor gets its fingerprint from the
// library (shmsnap::descriptor_fingerprint), which rebuilds the canonical layout text
// of schemas/README.md from the descriptor's fields.
#include "schema_source.hpp"

#include <filesystem>
#include <string>

#include "frontend.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/schema.hpp"
#include "shmsnap/schema_json.hpp"

namespace shmsnap::python {

OwnedSchema schema_from_toml_file(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw Error(Errc::not_found, "schema file '" + path +
                                     "' does not exist or is not a file; give the path of a .toml schema "
                                     "(e.g. schemas/robot_pose.toml) or a descriptor JSON string");
  }
  const schemac::FrontendResult result = schemac::compile_schema_file(path);
  if (!result.ok()) {
    throw Error(Errc::invalid_argument, "schema file '" + path + "' does not compile:\n" + result.message());
  }
  const schemac::Schema& schema = *result.schema;
  return OwnedSchema{.name = schema.name,
                     .version = schema.version,
                     .fingerprint = schema.fingerprint,
                     .size = static_cast<std::size_t>(schema.root.size),
                     .descriptor = schema.descriptor_json};
}

std::uint64_t fingerprint_of_descriptor(std::string_view descriptor_json) {
  try {
    // The library's own canonical layout text: one implementation for C++ readers,
    // the parser's fingerprint check and Python, tested against the compiler's.
    return descriptor_fingerprint(descriptor_json);
  } catch (const Error& error) {
    if (error.code() == Errc::invalid_region) {
      throw Error(Errc::invalid_argument, std::string("schema descriptor is not valid: ") + error.what() +
                                              "; give a descriptor as shmsnap/schema.hpp describes, e.g. "
                                              "Subscriber.schema['descriptor']");
    }
    throw;
  }
}

OwnedSchema schema_from_descriptor(std::string_view descriptor_json) {
  const std::uint64_t fingerprint = fingerprint_of_descriptor(descriptor_json);  // validates first
  const SnapshotCodec codec(descriptor_json);
  return OwnedSchema{.name = codec.name(),
                     .version = codec.version(),
                     .fingerprint = fingerprint,
                     .size = codec.size(),
                     .descriptor = std::string(descriptor_json)};
}

}  // namespace shmsnap::python
