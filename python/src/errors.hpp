// Python side of the one error scheme: shmsnap::Error surfaces as shmsnap.Error or
// the subclass of its Errc family, carrying the C++ message. Called with the GIL held.
#pragma once

#include <pybind11/pybind11.h>

#include "shmsnap/error.hpp"

namespace shmsnap::python {

/// Sets the Python error for `error` (the family's exception class, message, .code
/// and .os_errno attributes). The caller then throws pybind11::error_already_set.
void set_python_error(const Error& error);

}  // namespace shmsnap::python
