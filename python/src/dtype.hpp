// The numpy structured dtype of a schema descriptor: every field at the offset the
// C++ compiler gave it, the itemsize equal to sizeof the snapshot struct. Called with
// the GIL held.
#pragma once

#include <pybind11/pybind11.h>

#include <string_view>

namespace shmsnap::python {

/// numpy.dtype for `descriptor_json` (a descriptor SnapshotCodec accepted): nested
/// structs -> nested dtypes, arrays -> subarray shapes (dims as declared), char[N] ->
/// 'S{N}', enums -> their underlying integer, bool -> '?'.
[[nodiscard]] pybind11::object dtype_from_descriptor(std::string_view descriptor_json);

}  // namespace shmsnap::python
