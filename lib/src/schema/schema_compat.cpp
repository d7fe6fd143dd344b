// May a reader built against one schema descriptor read a region written with
// another? Yes when the writer's layout starts with every field of the reader's,
// unchanged (an append-only evolution): the reader then copies its prefix.
#include <string>
#include <string_view>

#include "schema/schema_descriptor.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/schema.hpp"

namespace shmsnap {

namespace {

using detail::DescriptorPlan;
using detail::FieldPlan;
using detail::StructPlan;

std::string placed(const FieldPlan& field) {
  return detail::describe_type(field) + " at offset " + std::to_string(field.offset) + " (" +
         std::to_string(field.size) + " bytes)";
}

std::string enum_values(const detail::EnumPlan& plan) {
  std::string out;
  for (const auto& [bits, name] : plan.values)
    out += (out.empty() ? "" : ", ") + name + "=" + std::to_string(bits);
  return out;
}

// How the writer's field differs from the reader's, or empty when it is identical.
std::string field_difference(const FieldPlan& reader, const FieldPlan& writer, const std::string& path);

std::string struct_difference(const StructPlan& reader, const StructPlan& writer, const std::string& path) {
  if (reader.fields.size() != writer.fields.size()) {
    return "struct " + reader.name + " of field '" + path + "' has " + std::to_string(reader.fields.size()) +
           " fields in the reader but " + std::to_string(writer.fields.size()) + " in the writer";
  }
  for (std::size_t i = 0; i < reader.fields.size(); ++i) {
    std::string difference = field_difference(reader.fields[i], writer.fields[i], path + "." + reader.fields[i].name);
    if (!difference.empty())
      return difference;
  }
  return {};
}

std::string field_difference(const FieldPlan& reader, const FieldPlan& writer, const std::string& path) {
  if (reader.name != writer.name) {
    return "field '" + path + "' of the reader is '" + writer.name + "' in the writer (" + placed(writer) + ")";
  }
  const std::string reader_text = placed(reader);
  const std::string writer_text = placed(writer);
  if (reader_text != writer_text) {
    return "field '" + path + "' differs: the reader has " + reader_text + ", the writer " + writer_text;
  }
  // Same bytes, different meaning: which elements of the array are in use, so which
  // prefix a publish copies and a reader may rely on.
  if (reader.count_field != writer.count_field) {
    const auto counted = [](const FieldPlan& field) {
      return field.count_field.empty() ? std::string("a fixed array")
                                       : "a bounded sequence counted by '" + field.count_field + "'";
    };
    return "field '" + path + "' differs: the reader has " + counted(reader) + ", the writer " + counted(writer);
  }
  if (reader.structure)
    return struct_difference(*reader.structure, *writer.structure, path);
  if (reader.enumeration && reader.enumeration->values != writer.enumeration->values) {
    return "field '" + path + "' differs: enum " + reader.enumeration->name + " has values {" +
           enum_values(*reader.enumeration) + "} in the reader but {" + enum_values(*writer.enumeration) +
           "} in the writer";
  }
  return {};
}

}  // namespace

std::string schema_incompatibility(std::string_view reader_descriptor, std::string_view writer_descriptor) {
  DescriptorPlan reader;
  DescriptorPlan writer;
  try {
    reader = detail::parse_descriptor(reader_descriptor);
  } catch (const Error& e) {
    return std::string("the reader's schema cannot be checked: ") + e.what();
  }
  try {
    writer = detail::parse_descriptor(writer_descriptor);
  } catch (const Error& e) {
    return std::string("the writer's schema cannot be checked: ") + e.what();
  }
  const std::string reader_name = reader.name + " v" + std::to_string(reader.version);
  const std::string writer_name = writer.name + " v" + std::to_string(writer.version);
  if (reader.name != writer.name) {
    return "schema mismatch: the reader expects " + reader_name + " but the writer publishes " + writer_name +
           "; subscribe with the type of " + writer.name;
  }
  const std::string prefix = "schema mismatch between reader " + reader_name + " and writer " + writer_name + ": ";
  const std::string fix =
      "; only fields appended at the end keep older readers working: rebuild the reader against " + writer_name;
  for (std::size_t i = 0; i < reader.root.fields.size(); ++i) {
    const FieldPlan& field = reader.root.fields[i];
    if (i >= writer.root.fields.size()) {
      return prefix + "field '" + field.name + "' (" + placed(field) + ") is missing from the writer" + fix;
    }
    std::string difference = field_difference(field, writer.root.fields[i], field.name);
    if (!difference.empty())
      return prefix + difference + fix;
  }
  if (writer.root.size < reader.root.size) {
    return prefix + "the writer's snapshot is " + std::to_string(writer.root.size) +
           " bytes, smaller than the reader's " + std::to_string(reader.root.size) + fix;
  }
  return {};
}

}  // namespace shmsnap
