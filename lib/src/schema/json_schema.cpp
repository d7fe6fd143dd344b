// JSON Schema generation from a descriptor: walks the same validated plan that
// SnapshotCodec decodes with, so the schema and the decoder cannot disagree on the
// layout. Mirrors Decoder in snapshot_codec.cpp element by element.
#include "shmsnap/json_schema.hpp"

#include <cstdint>
#include <limits>
#include <string>

#include "schema/schema_descriptor.hpp"

namespace shmsnap {

namespace {

using detail::ElementType;
using detail::FieldPlan;
using detail::StructPlan;
using Json = nlohmann::json;

Json integer_schema(ElementType type) {
  const std::uint64_t bits = detail::element_type_size(type) * 8;
  const bool is_signed = type >= ElementType::i8 && type <= ElementType::i64;
  Json schema = {{"type", "integer"}};
  if (is_signed) {
    schema["minimum"] = bits == 64 ? std::numeric_limits<std::int64_t>::min() : -(std::int64_t{1} << (bits - 1));
    schema["maximum"] = bits == 64 ? std::numeric_limits<std::int64_t>::max() : (std::int64_t{1} << (bits - 1)) - 1;
  } else {
    schema["minimum"] = 0;
    schema["maximum"] = bits == 64 ? std::numeric_limits<std::uint64_t>::max() : (std::uint64_t{1} << bits) - 1;
  }
  return schema;
}

// Reinterprets an enum value's zero-extended bit pattern as the underlying type, so a
// signed enum's -1 is stated as -1 (not 255) in the description.
Json enum_value_number(ElementType underlying, std::uint64_t bits) {
  if (underlying < ElementType::i8 || underlying > ElementType::i64)
    return bits;
  const std::uint64_t width = detail::element_type_size(underlying) * 8;
  if (width < 64 && (bits & (std::uint64_t{1} << (width - 1))) != 0)
    return static_cast<std::int64_t>(bits | ~((std::uint64_t{1} << width) - 1));
  return static_cast<std::int64_t>(bits);
}

Json struct_schema(const StructPlan& plan);

Json element_schema(const FieldPlan& field) {
  switch (field.type) {
    case ElementType::boolean:
      return {{"type", "boolean"}};
    case ElementType::f32:
    case ElementType::f64:
      return {{"anyOf", Json::array({{{"type", "number"}}, {{"enum", {"NaN", "Infinity", "-Infinity"}}}})}};
    case ElementType::character:
      // Decode stops at the first NUL and maps each invalid byte to one U+FFFD, so
      // every character costs at least one of the N bytes.
      return {{"type", "string"}, {"maxLength", field.length}};
    case ElementType::structure:
      return struct_schema(*field.structure);
    case ElementType::enumeration: {
      const auto& plan = *field.enumeration;
      Json names = Json::array();
      Json described = Json::object();
      for (const auto& [bits, name] : plan.values) {
        names.push_back(name);
        described[name] = enum_value_number(plan.underlying, bits);
      }
      Json named = {{"type", "string"}, {"enum", names}};
      Json schema = {{"title", plan.name},
                     {"description", "enum " + plan.name +
                                         ": one of its names, or the number of an unnamed value; "
                                         "values: " +
                                         described.dump()},
                     {"anyOf", Json::array({named, integer_schema(plan.underlying)})}};
      return schema;
    }
    default:
      return integer_schema(field.type);
  }
}

Json array_schema(const FieldPlan& field, const Json& element, std::size_t level) {
  const std::uint64_t length = field.dims.empty() ? field.count : field.dims[level];
  const bool innermost = field.dims.empty() || level + 1 == field.dims.size();
  return {{"type", "array"},
          {"minItems", length},
          {"maxItems", length},
          {"items", innermost ? element : array_schema(field, element, level + 1)}};
}

// The field's own "description" and "unit" go first in the JSON Schema description
// (what Foxglove and editors show), "unit" also as a key of its own for tools that
// read it; both annotate only, so validation is unchanged. A description the schema
// already had (an enum's values, a bounded sequence) follows them.
void annotate(const FieldPlan& field, Json& schema) {
  if (field.unit.empty() && field.description.empty())
    return;
  std::string text = field.description;
  if (!field.unit.empty()) {
    text += (text.empty() ? "unit: " : " (unit: ") + field.unit + (text.empty() ? "" : ")");
    schema["unit"] = field.unit;
  }
  if (const auto it = schema.find("description"); it != schema.end())
    text += "; " + it->get<std::string>();
  schema["description"] = std::move(text);
}

Json field_schema(const FieldPlan& field) {
  Json element = element_schema(field);
  if (!field.is_array) {
    annotate(field, element);
    return element;
  }
  Json schema = array_schema(field, element, 0);
  // A bounded sequence decodes to its elements in use only: 0..capacity of them.
  if (!field.count_field.empty()) {
    schema["minItems"] = 0;
    schema["description"] = "bounded sequence: the elements in use, as many as '" + field.count_field + "' says";
  }
  annotate(field, schema);
  return schema;
}

Json struct_schema(const StructPlan& plan) {
  Json properties = Json::object();
  Json required = Json::array();
  for (const FieldPlan& field : plan.fields) {
    properties[field.name] = field_schema(field);
    required.push_back(field.name);
  }
  Json schema = {{"type", "object"},
                 {"properties", std::move(properties)},
                 {"required", std::move(required)},
                 {"additionalProperties", false}};
  if (!plan.name.empty())
    schema["title"] = plan.name;
  return schema;
}

}  // namespace

Json json_schema_from_descriptor(std::string_view descriptor_json) {
  const detail::DescriptorPlan plan = detail::parse_descriptor(descriptor_json);
  Json schema = struct_schema(plan.root);
  // Draft-07 keywords only (no prefixItems, $defs): readers of either draft accept it.
  schema["$schema"] = "http://json-schema.org/draft-07/schema#";
  schema["title"] = plan.name;
  schema["description"] =
      "shmsnap snapshot " + plan.name + " v" + std::to_string(plan.version) + " as decoded by shmsnap::SnapshotCodec";
  return schema;
}

}  // namespace shmsnap
