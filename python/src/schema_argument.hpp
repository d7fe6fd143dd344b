// Turns the Python `schema=` argument into an owned schema. Called with the GIL held.
#pragma once

#include <pybind11/pybind11.h>

#include "schema_source.hpp"

namespace shmsnap::python {

/// A schema dict (name, version, fingerprint, size, descriptor, e.g. Subscriber.schema),
/// a descriptor JSON string, or a .toml schema path. Throws Error: invalid_argument, not_found.
[[nodiscard]] OwnedSchema schema_from_argument(const pybind11::handle& schema);

}  // namespace shmsnap::python
