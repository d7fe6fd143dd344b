// shmsnap.Error and its subclasses, one per Errc family. InvalidArgument is also a
// ValueError (and TimedOut a TimeoutError) so ordinary Python handlers catch them.
#include "errors.hpp"

#include <Python.h>

#include <array>
#include <cstddef>
#include <exception>
#include <string>

#include "bindings.hpp"

namespace py = pybind11;

namespace shmsnap::python {
namespace {

struct Family {
  Errc code;
  const char* name;
  PyObject* extra_base;  // a builtin exception to inherit beside shmsnap.Error, or null
  const char* doc;
};

constexpr std::size_t family_count = static_cast<std::size_t>(Errc::system) + 1;

// Owned by the module's attributes for the interpreter's lifetime; a raw pointer
// here avoids destroying Python objects after the interpreter is gone.
std::array<PyObject*, family_count> exception_types{};
PyObject* base_error = nullptr;

PyObject* type_for(Errc code) {
  const auto index = static_cast<std::size_t>(code);
  if (index < family_count && exception_types[index] != nullptr) {
    return exception_types[index];
  }
  return base_error;
}

}  // namespace

void set_python_error(const Error& error) {
  PyObject* type = type_for(error.code());
  py::object instance = py::reinterpret_borrow<py::object>(type)(error.what());
  instance.attr("code") = std::string(to_string(error.code()));
  instance.attr("os_errno") = error.os_errno();
  PyErr_SetObject(type, instance.ptr());
}

void register_errors(py::module_& module) {
  base_error = PyErr_NewExceptionWithDoc(
      "shmsnap.Error",
      "Base of every shmsnap failure. `code` is the C++ Errc family name (e.g. 'schema_mismatch'), "
      "`os_errno` the errno behind it (0 when none); str() is the full message.",
      nullptr, nullptr);
  if (base_error == nullptr) {
    throw py::error_already_set();
  }
  module.attr("Error") = py::reinterpret_borrow<py::object>(base_error);

  const std::array<Family, family_count> families{{
      {Errc::invalid_argument, "InvalidArgument", PyExc_ValueError,
       "A bad topic, id, option, schema or value (a field of the wrong type, out of range, too long, unknown). "
       "Also a ValueError."},
      {Errc::not_found, "NotFound", nullptr, "The topic (region) or queue does not exist."},
      {Errc::busy, "Busy", nullptr, "A live publisher holds the topic, or a live subscriber holds the id."},
      {Errc::permission_denied, "PermissionDenied", nullptr, "The OS refused access (file mode, user, group)."},
      {Errc::invalid_region, "InvalidRegion", nullptr, "The region's header or descriptor failed validation."},
      {Errc::schema_mismatch, "SchemaMismatch", nullptr,
       "Publisher and subscriber disagree on the snapshot layout; the message names the field."},
      {Errc::limit_exceeded, "LimitExceeded", nullptr,
       "A kernel or configured limit (mqueue sysctl, RLIMIT, max subscribers)."},
      {Errc::out_of_space, "OutOfSpace", nullptr, "/dev/shm (or the container's --shm-size) is too small."},
      {Errc::protocol, "Protocol", nullptr, "A peer sent something the protocol does not allow."},
      {Errc::timed_out, "TimedOut", PyExc_TimeoutError, "A bounded wait expired. Also a TimeoutError."},
      {Errc::system, "SystemFailure", nullptr, "Any other OS error; os_errno says which."},
  }};
  for (const Family& family : families) {
    const std::string qualified = std::string("shmsnap.") + family.name;
    py::tuple bases = family.extra_base != nullptr
                          ? py::make_tuple(py::reinterpret_borrow<py::object>(base_error),
                                           py::reinterpret_borrow<py::object>(family.extra_base))
                          : py::make_tuple(py::reinterpret_borrow<py::object>(base_error));
    PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), family.doc, bases.ptr(), nullptr);
    if (type == nullptr) {
      throw py::error_already_set();
    }
    exception_types[static_cast<std::size_t>(family.code)] = type;
    module.attr(family.name) = py::reinterpret_borrow<py::object>(type);
  }

  py::register_exception_translator([](std::exception_ptr pending) {
    try {
      if (pending) {
        std::rethrow_exception(pending);
      }
    } catch (const Error& error) {
      set_python_error(error);
    }
  });
}

}  // namespace shmsnap::python
