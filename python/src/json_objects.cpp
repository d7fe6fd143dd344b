// dict <-> JSON for the snapshot codec. The codec does every schema check (types,
// ranges, lengths, unknown fields); this file only refuses Python objects that have
// no JSON form, naming the field path the same way the codec does.
#include "json_objects.hpp"

#include <Python.h>

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

nlohmann::json integer_to_json(py::handle value, const std::string& path) {
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
  refuse(path, "integer " + py::str(value).cast<std::string>() + " is out of range of every integer field type");
}

nlohmann::json convert(py::handle value, const std::string& path) {
  if (value.is_none()) {
    return nullptr;
  }
  if (PyBool_Check(value.ptr())) {
    return value.ptr() == Py_True;
  }
  if (PyLong_Check(value.ptr())) {
    return integer_to_json(value, path);
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
      object[name] = convert(item, path.empty() ? name : path + "." + name);
    }
    return object;
  }
  if (PyList_Check(value.ptr()) || PyTuple_Check(value.ptr())) {
    nlohmann::json array = nlohmann::json::array();
    std::size_t index = 0;
    for (const py::handle item : value) {
      array.push_back(convert(item, path + "[" + std::to_string(index) + "]"));
      ++index;
    }
    return array;
  }
  // numpy values: arrays become lists, scalars their Python equivalent.
  if (py::hasattr(value, "tolist") && py::hasattr(value, "dtype")) {
    py::object plain = value.attr("tolist")();
    if (!(py::hasattr(plain, "tolist") && py::hasattr(plain, "dtype"))) {
      return convert(plain, path);
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

nlohmann::json to_json(py::handle value) {
  return convert(value, "");
}

}  // namespace shmsnap::python
