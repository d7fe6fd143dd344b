// The `schema=` argument of Publisher and Subscriber: a schema dict, a descriptor
// JSON string or a .toml path (str or os.PathLike). Called with the GIL held.
#include "schema_argument.hpp"

#include <string>

#include "shmsnap/error.hpp"
#include "shmsnap/schema_json.hpp"

namespace py = pybind11;

namespace shmsnap::python {

OwnedSchema schema_from_argument(const py::handle& schema) {
  if (py::isinstance<py::dict>(schema)) {
    const auto dict = schema.cast<py::dict>();
    for (const char* key : {"name", "version", "fingerprint", "size", "descriptor"}) {
      if (!dict.contains(key)) {
        throw Error(Errc::invalid_argument, std::string("schema dict lacks '") + key +
                                                "'; give Subscriber.schema, a .toml path or a descriptor JSON string");
      }
    }
    OwnedSchema owned{.name = dict["name"].cast<std::string>(),
                      .version = dict["version"].cast<std::uint32_t>(),
                      .fingerprint = dict["fingerprint"].cast<std::uint64_t>(),
                      .size = dict["size"].cast<std::size_t>(),
                      .descriptor = dict["descriptor"].cast<std::string>()};
    const SnapshotCodec codec(owned.descriptor);
    if (codec.size() != owned.size) {
      throw Error(Errc::invalid_argument, "schema dict: size " + std::to_string(owned.size) +
                                              " disagrees with its descriptor's " + std::to_string(codec.size()));
    }
    return owned;
  }
  // os.PathLike or str: a descriptor when it looks like JSON, else a file path.
  const std::string text = py::str(py::module_::import("os").attr("fspath")(schema)).cast<std::string>();
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    return schema_from_descriptor(text);
  }
  return schema_from_toml_file(text);
}

}  // namespace shmsnap::python
