// dict <-> JSON for the snapshot codec. The codec does every schema check (types,
// ranges, lengths, unknown fields); this file only refuses Python objects that have
// no JSON form, naming the field path the same way the codec does. The descriptor is
// walked alongside for two checks the codec cannot make: an int beyond 64 bits (JSON
// cannot carry it) becomes a float for a float field and is refused naming the
// field's type otherwise; and an enum number must be one the enum defines. The codec
// itself keeps encoding undefined numbers, because it maps them that way on decode
// and a decoded snapshot (a recording, a bridged one) must encode back.
#include "json_objects.hpp"

#include <Python.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "shmsnap/error.hpp"

namespace py = pybind11;

namespace shmsnap::python {
namespace {

std::string type_name(py::handle value) {
  return py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>();
}

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw Error(Errc::invalid_argument, "field '" + (path.empty() ? std::string("(snapshot)") : path) + "': " + why);
}

// The descriptor field (or the root) a value at some path is checked against; nullptr
// where the path names no field (the codec refuses it as unknown).
using Node = const nlohmann::json*;

Node struct_of(Node node) {
  if (node == nullptr || !node->is_object()) {
    return nullptr;
  }
  if (node->contains("fields")) {
    return node;  // the root
  }
  const auto nested = node->find("struct");
  return nested != node->end() && nested->is_object() ? &*nested : nullptr;
}

Node field_named(Node structure, const std::string& name) {
  if (structure == nullptr) {
    return nullptr;
  }
  const auto fields = structure->find("fields");
  if (fields == structure->end() || !fields->is_array()) {
    return nullptr;
  }
  for (const nlohmann::json& field : *fields) {
    const auto found = field.find("name");
    if (found != field.end() && found->is_string() && found->get_ref<const std::string&>() == name) {
      return &field;
    }
  }
  return nullptr;
}

std::string string_at(const nlohmann::json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string("?");
}

// The field's type as the schema writes it: f64, char[8], enum Mode (i8), struct Pose.
std::string type_of(const nlohmann::json& field) {
  const std::string type = string_at(field, "type");
  if (type == "enum" && field.contains("enum") && field["enum"].is_object()) {
    return "enum " + string_at(field["enum"], "name") + " (" + string_at(field["enum"], "underlying") + ")";
  }
  if (type == "struct" && field.contains("struct") && field["struct"].is_object()) {
    return "struct " + string_at(field["struct"], "name");
  }
  if (type == "char" && field.contains("length")) {
    return "char[" + field["length"].dump() + "]";
  }
  return type;
}

// An int for a message: whole when short, else its first and last digits and its
// length (a 400-digit int is not an error message). Never str() of a huge one:
// Python refuses to convert ints beyond sys.get_int_max_str_digits() (4300 digits).
std::string shown_integer(py::handle value) {
  constexpr std::size_t whole_up_to = 24;
  constexpr std::size_t max_str_bits = 14000;  // about 4200 decimal digits
  const std::size_t bits = py::int_(py::reinterpret_borrow<py::object>(value)).attr("bit_length")().cast<std::size_t>();
  if (bits > max_str_bits) {
    const bool negative = py::reinterpret_borrow<py::object>(value) < py::int_(0);
    return std::string(negative ? "a negative" : "an") + " int of about " +
           std::to_string(static_cast<std::size_t>(static_cast<double>(bits) * std::log10(2.0))) + " digits";
  }
  const std::string text = py::str(value).cast<std::string>();
  if (text.size() <= whole_up_to) {
    return text;
  }
  const std::size_t digits = text.size() - (text[0] == '-' ? 1 : 0);
  return text.substr(0, 12) + "..." + text.substr(text.size() - 6) + " (" + std::to_string(digits) + " digits)";
}

// Equal as numbers, whatever mix of signed and unsigned storage nlohmann chose.
bool same_integer(const nlohmann::json& a, const nlohmann::json& b) {
  if (!a.is_number_integer() || !b.is_number_integer()) {
    return false;
  }
  const bool a_negative = !a.is_number_unsigned() && a.get<std::int64_t>() < 0;
  const bool b_negative = !b.is_number_unsigned() && b.get<std::int64_t>() < 0;
  if (a_negative || b_negative) {
    return a_negative && b_negative && a.get<std::int64_t>() == b.get<std::int64_t>();
  }
  return a.get<std::uint64_t>() == b.get<std::uint64_t>();
}

// A publish of an undefined enum number would reach every reader as a bare number no
// switch over the enum handles: refused, listing the values (the first few).
void check_enum_number(const nlohmann::json& number, const std::string& path, const nlohmann::json& field) {
  const auto plan = field.find("enum");
  if (plan == field.end() || !plan->is_object() || !plan->contains("values") || !(*plan)["values"].is_array()) {
    return;  // not an enum (the codec checks the number against the field's type)
  }
  const nlohmann::json& values = (*plan)["values"];
  for (const nlohmann::json& defined : values) {
    if (defined.is_object() && defined.contains("value") && same_integer(defined["value"], number)) {
      return;
    }
  }
  constexpr std::size_t shown = 16;
  std::string listed;
  for (std::size_t i = 0; i < values.size() && i < shown; ++i) {
    const nlohmann::json& defined = values[i];
    listed += (i == 0 ? "" : ", ") + (defined.is_object() ? string_at(defined, "name") : std::string("?")) + " = " +
              (defined.is_object() && defined.contains("value") ? defined["value"].dump() : std::string("?"));
  }
  if (values.size() > shown) {
    listed += ", ... (" + std::to_string(values.size()) + " values)";
  }
  refuse(path, number.dump() + " is not a value of enum " + string_at(*plan, "name") +
                   (values.empty() ? "; it defines none" : "; defined: " + listed) +
                   ". Give a defined number or the value's name");
}

nlohmann::json integer_within_64_bits(py::handle value, const std::string& path, Node field) {
  int overflow = 0;
  const long long as_signed = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (overflow == 0) {
    if (as_signed == -1 && PyErr_Occurred() != nullptr) {
      throw py::error_already_set();
    }
    return static_cast<std::int64_t>(as_signed);
  }
  if (overflow > 0) {
    const unsigned long long as_unsigned = PyLong_AsUnsignedLongLong(value.ptr());
    if (!(as_unsigned == static_cast<unsigned long long>(-1) && PyErr_Occurred() != nullptr)) {
      return static_cast<std::uint64_t>(as_unsigned);
    }
    PyErr_Clear();
  }
  // Beyond 64 bits: only a float field can take it.
  if (field == nullptr) {
    return nullptr;  // no such field: the codec refuses it by name
  }
  const std::string type = type_of(*field);
  if (type == "f64" || type == "f32") {
    const double as_double = PyLong_AsDouble(value.ptr());
    if (!(as_double == -1.0 && PyErr_Occurred() != nullptr)) {
      return as_double;  // the codec checks it against the field's range
    }
    PyErr_Clear();
  }
  refuse(path, shown_integer(value) + " is out of range for " + type);
}

nlohmann::json integer_to_json(py::handle value, const std::string& path, Node field) {
  const nlohmann::json number = integer_within_64_bits(value, path, field);
  if (field != nullptr && number.is_number_integer()) {
    check_enum_number(number, path, *field);
  }
  return number;
}

nlohmann::json convert(py::handle value, const std::string& path, Node field) {
  if (value.is_none()) {
    return nullptr;
  }
  if (PyBool_Check(value.ptr())) {
    return value.ptr() == Py_True;
  }
  if (PyLong_Check(value.ptr())) {
    return integer_to_json(value, path, field);
  }
  if (PyFloat_Check(value.ptr())) {
    return PyFloat_AS_DOUBLE(value.ptr());
  }
  if (PyUnicode_Check(value.ptr())) {
    return value.cast<std::string>();
  }
  if (PyDict_Check(value.ptr())) {
    nlohmann::json object = nlohmann::json::object();
    for (const auto& [key, item] : value.cast<py::dict>()) {
      if (!PyUnicode_Check(key.ptr())) {
        refuse(path, "keys must be field names (str), not " + type_name(key));
      }
      const std::string name = key.cast<std::string>();
      object[name] = convert(item, path.empty() ? name : path + "." + name, field_named(struct_of(field), name));
    }
    return object;
  }
  if (PyList_Check(value.ptr()) || PyTuple_Check(value.ptr())) {
    nlohmann::json array = nlohmann::json::array();
    std::size_t index = 0;
    for (const py::handle item : value) {
      array.push_back(convert(item, path + "[" + std::to_string(index) + "]", field));  // elements: the field's type
      ++index;
    }
    return array;
  }
  // numpy values: arrays become lists, scalars their Python equivalent.
  if (py::hasattr(value, "tolist") && py::hasattr(value, "dtype")) {
    py::object plain = value.attr("tolist")();
    if (!(py::hasattr(plain, "tolist") && py::hasattr(plain, "dtype"))) {
      return convert(plain, path, field);
    }
  }
  refuse(path, "a " + type_name(value) + " has no snapshot form; give a number, bool, str, list or dict");
}

}  // namespace

template <class Json>
py::object to_python_any(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: {
      py::dict dict;
      for (const auto& [key, item] : value.items()) {
        dict[py::str(key)] = to_python_any(item);
      }
      return dict;
    }
    case Json::value_t::array: {
      py::list list(value.size());
      std::size_t index = 0;
      for (const auto& item : value) {
        list[index++] = to_python_any(item);
      }
      return list;
    }
    case Json::value_t::string:
      return py::str(value.template get_ref<const std::string&>());
    case Json::value_t::boolean:
      return py::bool_(value.template get<bool>());
    case Json::value_t::number_integer:
      return py::int_(value.template get<std::int64_t>());
    case Json::value_t::number_unsigned:
      return py::int_(value.template get<std::uint64_t>());
    case Json::value_t::number_float:
      return py::float_(value.template get<double>());
    case Json::value_t::null:
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return py::none();
}

py::object to_python(const nlohmann::json& value) {
  return to_python_any(value);
}

py::object to_python(const nlohmann::ordered_json& value) {
  return to_python_any(value);
}

nlohmann::json to_json(py::handle value, const nlohmann::json& descriptor) {
  return convert(value, "", &descriptor);
}

}  // namespace shmsnap::python
