// The pieces of the `shmsnap._shmsnap` extension module: each file registers its
// classes and functions on the module from PYBIND11_MODULE (module.cpp), once, with
// the GIL held. Nothing here is for use outside the extension.
#pragma once

#include <pybind11/pybind11.h>

namespace shmsnap::python {

/// shmsnap.Error and one subclass per Errc family, plus the C++ -> Python translator.
void register_errors(pybind11::module_& module);
/// shmsnap._shmsnap.Info and Subscriber.
void register_subscriber(pybind11::module_& module);
/// shmsnap._shmsnap.Publisher and the schema helpers (compile_schema, fingerprint).
void register_publisher(pybind11::module_& module);
/// shmsnap.topics() and shmsnap.dump().
void register_topics(pybind11::module_& module);

}  // namespace shmsnap::python
