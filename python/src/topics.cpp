// shmsnap.topics() and shmsnap.dump(): one-shot looks at the shm namespace, without
// registering as a subscriber (dump copies the newest slot under its seqlock).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bindings.hpp"
#include "json_objects.hpp"
#include "shmsnap/admin.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/schema_json.hpp"

namespace py = pybind11;

namespace shmsnap::python {

void register_topics(py::module_& module) {
  module.def(
      "topics",
      [](const std::optional<std::string>& prefix) { return admin::find_topics(resolve_prefix(prefix.value_or(""))); },
      py::arg("prefix") = py::none(), "Sorted names of the topics that have a region under `prefix`.");

  module.def(
      "dump",
      [](const std::string& topic, const std::optional<std::string>& prefix) {
        const TopicNames names(resolve_prefix(prefix.value_or("")), topic);
        const RegionReader reader = RegionReader::open(names.region());
        SnapshotMeta meta;
        std::optional<std::vector<std::byte>> newest = reader.read_newest(meta);
        if (newest)
          newest->resize(reader.payload_size());  // the schema's layout; past the used part, zeros
        py::dict result;
        result["topic"] = topic;
        result["schema"] = std::string(reader.schema_name());
        result["schema_version"] = reader.header().schema_version;
        result["epoch"] = reader.epoch();
        result["seq"] = newest ? meta.seq : 0;
        result["publisher_pid"] = static_cast<int>(reader.publisher_pid());
        result["publisher_alive"] = reader.publisher_alive();
        result["age_ns"] = newest ? py::object(py::int_(monotonic_ns() - meta.publish_ts_ns)) : py::none();
        result["data"] =
            newest
                ? to_python(
                      SnapshotCodec(reader.descriptor()).decode_ordered(*newest, SnapshotCodec::NonFinite::as_numbers))
                : py::none();
        return result;
      },
      py::arg("topic"), py::arg("prefix") = py::none(),
      "The current snapshot of `topic` as a dict (topic, schema, epoch, seq, publisher_pid, data), "
      "read once without subscribing.");
}

}  // namespace shmsnap::python
