// Descriptor -> numpy dtype. The descriptor carries the offsets and sizes the schema
// compiler laid out (and static_asserted against the C++ compiler), so the dtype is
// built from them rather than letting numpy choose an alignment of its own.
#include "dtype.hpp"

#include <string>

#include <nlohmann/json.hpp>

#include "shmsnap/error.hpp"

namespace py = pybind11;

namespace shmsnap::python {
namespace {

std::string scalar_format(const std::string& type) {
  // Native byte order: the region is only ever shared on one host.
  static const std::pair<const char*, const char*> formats[] = {
      {"bool", "?"}, {"i8", "i1"},  {"i16", "i2"}, {"i32", "i4"}, {"i64", "i8"}, {"u8", "u1"},
      {"u16", "u2"}, {"u32", "u4"}, {"u64", "u8"}, {"f32", "f4"}, {"f64", "f8"},
  };
  for (const auto& [name, format] : formats) {
    if (type == name) {
      return format;
    }
  }
  throw Error(Errc::invalid_region, "descriptor: unknown field type '" + type + "'");
}

py::object struct_dtype(const nlohmann::json& fields, std::uint64_t itemsize, const py::module_& numpy);

py::object element_dtype(const nlohmann::json& field, const py::module_& numpy) {
  const std::string type = field.at("type").get<std::string>();
  if (type == "struct") {
    const nlohmann::json& nested = field.at("struct");
    return struct_dtype(nested.at("fields"), nested.at("size").get<std::uint64_t>(), numpy);
  }
  if (type == "enum") {
    return numpy.attr("dtype")(scalar_format(field.at("enum").at("underlying").get<std::string>()));
  }
  if (type == "char") {
    return numpy.attr("dtype")("S" + std::to_string(field.at("length").get<std::uint64_t>()));
  }
  return numpy.attr("dtype")(scalar_format(type));
}

py::object field_format(const nlohmann::json& field, const py::module_& numpy) {
  py::object element = element_dtype(field, numpy);
  if (field.contains("dims")) {
    py::list shape;
    for (const auto& dim : field.at("dims")) {
      shape.append(dim.get<std::uint64_t>());
    }
    return py::make_tuple(element, py::tuple(shape));
  }
  if (field.contains("count")) {
    return py::make_tuple(element, py::make_tuple(field.at("count").get<std::uint64_t>()));
  }
  return element;
}

py::object struct_dtype(const nlohmann::json& fields, std::uint64_t itemsize, const py::module_& numpy) {
  py::list names;
  py::list formats;
  py::list offsets;
  for (const auto& field : fields) {
    names.append(field.at("name").get<std::string>());
    formats.append(field_format(field, numpy));
    offsets.append(field.at("offset").get<std::uint64_t>());
  }
  py::dict spec;
  spec["names"] = names;
  spec["formats"] = formats;
  spec["offsets"] = offsets;
  spec["itemsize"] = itemsize;
  return numpy.attr("dtype")(spec);
}

}  // namespace

py::object dtype_from_descriptor(std::string_view descriptor_json) {
  const py::module_ numpy = py::module_::import("numpy");
  try {
    const nlohmann::json descriptor = nlohmann::json::parse(descriptor_json);
    return struct_dtype(descriptor.at("fields"), descriptor.at("size").get<std::uint64_t>(), numpy);
  } catch (const nlohmann::json::exception& error) {
    throw Error(Errc::invalid_region, std::string("descriptor: cannot build a numpy dtype: ") + error.what());
  }
}

}  // namespace shmsnap::python
