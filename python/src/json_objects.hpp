// Conversion between nlohmann::json (what SnapshotCodec decodes to and encodes from)
// and plain Python objects (dict, list, str, int, float, bool, None). Called with the
// GIL held.
#pragma once

#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>

namespace shmsnap::python {

/// A JSON value as Python objects: object -> dict, array -> list, string -> str, ...
[[nodiscard]] pybind11::object to_python(const nlohmann::json& value);
/// As above, keeping the object key order (the codec's layout order).
[[nodiscard]] pybind11::object to_python(const nlohmann::ordered_json& value);

/// A Python value as JSON for SnapshotCodec::encode with the parsed `descriptor`.
/// Accepts dict (str keys), list, tuple, str, bool, int, float, None and numpy scalars
/// and arrays. Throws shmsnap::Error{Errc::invalid_argument} naming the field path of
/// anything else, and of an int beyond 64 bits that the field's type cannot hold.
[[nodiscard]] nlohmann::json to_json(pybind11::handle value, const nlohmann::json& descriptor);

}  // namespace shmsnap::python
