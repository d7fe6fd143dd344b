// Entry point of the extension `shmsnap._shmsnap`: assembles the module from the
// register_* functions. The pure-Python package (shmsnap/__init__.py) wraps it.
#include <pybind11/pybind11.h>

#include "bindings.hpp"

PYBIND11_MODULE(_shmsnap, module) {
  module.doc() =
      "Native part of shmsnap: subscribers and publishers of shmsnap topics, decoding and encoding "
      "snapshots through the schema descriptor each region carries. Use the `shmsnap` package.";
  module.attr("__version__") = SHMSNAP_PYTHON_VERSION;
  shmsnap::python::register_errors(module);
  shmsnap::python::register_subscriber(module);
  shmsnap::python::register_publisher(module);
  shmsnap::python::register_topics(module);
}
