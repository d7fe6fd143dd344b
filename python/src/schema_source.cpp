// Schema loading for Python publishers. TOML goes through the schema compiler's own
// front end (shmsnap_schemac_lib), so a Python publisher and a generated C++ type of
// the same file agree byte for byte. A bare descriptor gets its fingerprint from the
// canonical layout text of schemas/README.md, rebuilt from the descriptor's fields.
#include "schema_source.hpp"

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "frontend.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/schema_json.hpp"

namespace shmsnap::python {
namespace {

std::string number(const nlohmann::json& value) {
  return value.is_number_unsigned() ? std::to_string(value.get<std::uint64_t>())
                                    : std::to_string(value.get<std::int64_t>());
}

// Mirrors append_canonical() in schemas/compiler/canonical_layout.cpp; the test suite
// checks both give the same fingerprint for every bundled and test schema.
void append_canonical(const std::string& struct_name, const nlohmann::json& structure, std::string& out) {
  const nlohmann::json& fields = structure.at("fields");
  out += "struct " + struct_name + " size=" + number(structure.at("size")) + " align=" + number(structure.at("align")) +
         " fields=" + std::to_string(fields.size()) + "\n";
  for (const nlohmann::json& field : fields) {
    const std::string type = field.at("type").get<std::string>();
    out += "field " + field.at("name").get<std::string>() + " type=" + type;
    out += " offset=" + number(field.at("offset")) + " size=" + number(field.at("size"));
    if (field.contains("count")) {
      out += " count=" + number(field.at("count"));
    }
    if (field.contains("dims")) {
      out += " dims=";
      bool first = true;
      for (const nlohmann::json& dim : field.at("dims")) {
        out += (first ? "" : "x") + number(dim);
        first = false;
      }
    }
    if (type == "char") {
      out += " length=" + number(field.at("length"));
    }
    out += "\n";
    if (type == "struct") {
      const nlohmann::json& nested = field.at("struct");
      append_canonical(nested.at("name").get<std::string>(), nested, out);
      out += "end\n";
    } else if (type == "enum") {
      const nlohmann::json& enumeration = field.at("enum");
      out += "enum " + enumeration.at("name").get<std::string>() +
             " underlying=" + enumeration.at("underlying").get<std::string>() + " values=";
      bool first = true;
      for (const nlohmann::json& value : enumeration.at("values")) {
        out += (first ? "" : ",") + value.at("name").get<std::string>() + ":" + number(value.at("value"));
        first = false;
      }
      out += "\n";
    }
  }
}

}  // namespace

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
    // The codec's validation bounds nesting depth, sizes and offsets before the
    // recursive walk below sees the text.
    const SnapshotCodec codec(descriptor_json);
    const nlohmann::json descriptor = nlohmann::json::parse(descriptor_json);
    const std::string name = descriptor.at("name").get<std::string>();
    const std::size_t dot = name.rfind('.');
    const std::string root_name = schemac::type_name_for(dot == std::string::npos ? name : name.substr(dot + 1));
    std::string canonical = "shmsnap-layout 1\nschema " + name + "\n";
    append_canonical(root_name, descriptor, canonical);
    return schemac::fnv1a64(canonical);
  } catch (const nlohmann::json::exception& error) {
    throw Error(Errc::invalid_argument, std::string("schema descriptor: ") + error.what() +
                                            "; give a descriptor as shmsnap/schema.hpp describes, e.g. "
                                            "Subscriber.schema['descriptor']");
  } catch (const Error& error) {
    if (error.code() == Errc::invalid_region) {
      throw Error(Errc::invalid_argument, std::string("schema descriptor is not valid: ") + error.what());
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
