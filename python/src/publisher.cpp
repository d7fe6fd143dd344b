// shmsnap._shmsnap.Publisher: a UntypedPublisher made from a runtime schema (TOML file,
// descriptor JSON, or a subscriber's schema dict). Dicts are encoded by SnapshotCodec
// before anything is written, so a bad value publishes nothing; raw bytes (numpy
// records) are checked for size. Loans expose the next slot as a writable numpy
// array. Every publish copies only the used part (a bounded sequence's elements in
// use, SnapshotCodec::used_size). Used from one thread at a time (the GIL is held throughout).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "dtype.hpp"
#include "json_objects.hpp"
#include "schema_argument.hpp"
#include "schema_source.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/schema_json.hpp"

namespace py = pybind11;

namespace shmsnap::python {
namespace {

// PublisherStats as Python sees it, the one list of its counters (as
// subscriber_stats_fields in subscriber.cpp); exported as PUBLISHER_STATS_FIELDS.
constexpr std::array<std::pair<const char*, std::uint64_t PublisherStats::*>, 8> publisher_stats_fields{{
    {"published", &PublisherStats::published},
    {"notified", &PublisherStats::notified},
    {"coalesced", &PublisherStats::coalesced},
    {"send_errors", &PublisherStats::send_errors},
    {"subscribers", &PublisherStats::subscribers},
    {"reclaimed", &PublisherStats::reclaimed},
    {"rejected", &PublisherStats::rejected},
    {"dropped_control", &PublisherStats::dropped_control},
}};
static_assert(sizeof(PublisherStats) == publisher_stats_fields.size() * sizeof(std::uint64_t),
              "PublisherStats changed: list every counter in publisher_stats_fields");

FanOut parse_fan_out(const std::string& fan_out) {
  if (fan_out == "caller") {
    return FanOut::caller;
  }
  if (fan_out == "notifier_thread") {
    return FanOut::notifier_thread;
  }
  throw Error(Errc::invalid_argument,
              "fan_out '" + fan_out + "' is not a fan-out mode; use 'caller' or 'notifier_thread'");
}

class PyPublisher {
 public:
  PyPublisher(const std::string& topic, const py::object& schema, const std::optional<std::string>& prefix,
              std::uint32_t slot_count, std::uint32_t max_subscribers, unsigned mode, const std::string& fan_out)
      : schema_(schema_from_argument(schema)), codec_(schema_.descriptor) {
    const PublisherOptions options{.prefix = prefix.value_or(""),
                                   .mode = static_cast<mode_t>(mode),
                                   .slot_count = slot_count,
                                   .max_subscribers = max_subscribers,
                                   .fan_out = parse_fan_out(fan_out)};
    core_ = std::make_unique<UntypedPublisher>(topic, schema_.info(), schema_.size, options);
  }
  ~PyPublisher() { close(); }
  PyPublisher(const PyPublisher&) = delete;
  PyPublisher& operator=(const PyPublisher&) = delete;

  void close() {
    if (core_) {
      if (loan_open_) {
        core_->abort_write();
        loan_open_ = false;
      }
      core_->shutdown();
      core_.reset();
    }
  }
  bool closed() const noexcept { return !core_; }

  std::uint64_t publish_dict(const py::handle& value) {
    UntypedPublisher& core = ready();
    if (!py::isinstance<py::dict>(value)) {
      throw Error(Errc::invalid_argument, "publish() takes a dict or a numpy record of this schema, not a " +
                                              py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>());
    }
    if (!descriptor_) {
      descriptor_ = nlohmann::json::parse(schema_.descriptor);  // valid: the codec parsed it
    }
    const std::vector<std::byte> bytes =
        codec_.encode(to_json(value, *descriptor_));  // throws before anything is written
    // A bounded sequence's elements past its count stay unwritten: readers see zeros.
    return core.publish(bytes.data(), codec_.used_size(bytes));
  }

  std::uint64_t publish_bytes(const py::buffer& value) {
    UntypedPublisher& core = ready();
    const py::buffer_info buffer = value.request();
    const auto size = static_cast<std::size_t>(buffer.size * buffer.itemsize);
    if (size != schema_.size) {
      throw Error(Errc::invalid_argument, "publish(): " + std::to_string(size) + " bytes given, schema " +
                                              schema_.name + " needs " + std::to_string(schema_.size));
    }
    return core.publish(buffer.ptr, codec_.used_size(std::span(static_cast<const std::byte*>(buffer.ptr), size)));
  }

  py::object begin_loan(bool clear) {
    UntypedPublisher& core = ready();
    std::byte* slot = core.begin_write();
    loan_slot_ = slot;
    loan_open_ = true;
    if (clear) {
      std::memset(slot, 0, schema_.size);
    }
    // A 0-d array viewing the slot; `self` as its base keeps the region mapped.
    const py::dtype type = py::dtype::from_args(dtype());
    return py::array(type, std::vector<py::ssize_t>{}, std::vector<py::ssize_t>{}, slot, py::cast(this));
  }

  std::uint64_t commit_loan() {
    UntypedPublisher& core = loaned();
    loan_open_ = false;
    // Only the part the count field says is in use (our own slot: the writer reads it).
    return core.commit_write(codec_.used_size(std::span<const std::byte>(loan_slot_, schema_.size)));
  }

  void abort_loan() {
    UntypedPublisher& core = loaned();
    loan_open_ = false;
    core.abort_write();
  }

  py::object dtype() {
    if (!dtype_) {
      dtype_ = dtype_from_descriptor(schema_.descriptor);
    }
    return *dtype_;
  }

  py::dict schema() const {
    py::dict result;
    result["name"] = schema_.name;
    result["version"] = schema_.version;
    result["fingerprint"] = schema_.fingerprint;
    result["size"] = schema_.size;
    result["descriptor"] = schema_.descriptor;
    return result;
  }

  py::dict stats() {
    const PublisherStats stats = usable().stats();
    py::dict result;
    for (const auto& [name, counter] : publisher_stats_fields) {
      result[name] = stats.*counter;
    }
    return result;
  }

  std::uint64_t epoch() { return usable().epoch(); }
  std::uint64_t last_seq() { return usable().last_seq(); }
  std::string topic() { return usable().topic(); }
  std::string region_name() { return usable().region_name(); }

 private:
  UntypedPublisher& usable() {
    if (!core_) {
      throw Error(Errc::invalid_argument, "the publisher is closed; create a new shmsnap.Publisher");
    }
    return *core_;
  }
  UntypedPublisher& ready() {
    UntypedPublisher& core = usable();
    if (loan_open_) {
      throw Error(Errc::invalid_argument, "a loan of this publisher is open; leave its `with` block first");
    }
    return core;
  }
  UntypedPublisher& loaned() {
    UntypedPublisher& core = usable();
    if (!loan_open_) {
      throw Error(Errc::invalid_argument, "no loan of this publisher is open");
    }
    return core;
  }

  OwnedSchema schema_;
  SnapshotCodec codec_;
  std::optional<nlohmann::json> descriptor_;  // parsed on the first publish of a dict
  std::unique_ptr<UntypedPublisher> core_;
  std::optional<py::object> dtype_;
  bool loan_open_ = false;
  std::byte* loan_slot_ = nullptr;  ///< the open loan's slot, from begin_write()
};

}  // namespace

void register_publisher(py::module_& module) {
  py::list stats_names;
  for (const auto& [name, counter] : publisher_stats_fields) {
    stats_names.append(name);
  }
  module.attr("PUBLISHER_STATS_FIELDS") = py::tuple(stats_names);
  py::class_<PyPublisher>(module, "Publisher", "Native publisher; use shmsnap.Publisher.")
      .def(py::init<const std::string&, const py::object&, const std::optional<std::string>&, std::uint32_t,
                    std::uint32_t, unsigned, const std::string&>(),
           py::arg("topic"), py::arg("schema"), py::arg("prefix") = py::none(), py::arg("slot_count") = 3,
           py::arg("max_subscribers") = 64, py::arg("mode") = 0640, py::arg("fan_out") = "caller")
      .def("close", &PyPublisher::close, "SHUTDOWN to every subscriber, then region and control queue removed.")
      .def_property_readonly("closed", &PyPublisher::closed)
      .def("_publish_dict", &PyPublisher::publish_dict, py::arg("value"))
      .def("_publish_bytes", &PyPublisher::publish_bytes, py::arg("value"))
      .def("_begin_loan", &PyPublisher::begin_loan, py::arg("clear") = true)
      .def("_commit_loan", &PyPublisher::commit_loan)
      .def("_abort_loan", &PyPublisher::abort_loan)
      .def_property_readonly("dtype", &PyPublisher::dtype, "numpy dtype of the published schema")
      .def_property_readonly("schema", &PyPublisher::schema, "name, version, fingerprint, size, descriptor")
      .def_property_readonly("stats", &PyPublisher::stats)
      .def_property_readonly("epoch", &PyPublisher::epoch)
      .def_property_readonly("last_seq", &PyPublisher::last_seq, "sequence of the newest publish, 0 before")
      .def_property_readonly("topic", &PyPublisher::topic)
      .def_property_readonly("region_name", &PyPublisher::region_name);

  module.def(
      "compile_schema",
      [](const py::object& schema) {
        const OwnedSchema owned = schema_from_argument(schema);
        py::dict result;
        result["name"] = owned.name;
        result["version"] = owned.version;
        result["fingerprint"] = owned.fingerprint;
        result["size"] = owned.size;
        result["descriptor"] = owned.descriptor;
        return result;
      },
      py::arg("schema"),
      "The schema dict (name, version, fingerprint, size, descriptor) of a .toml path or descriptor JSON.");
  module.def(
      "dtype_of",
      [](const py::object& schema) { return dtype_from_descriptor(schema_from_argument(schema).descriptor); },
      py::arg("schema"), "The numpy dtype (C++ offsets and itemsize) of a schema dict, .toml path or descriptor.");
  module.def(
      "fingerprint_of_descriptor", [](const std::string& descriptor) { return fingerprint_of_descriptor(descriptor); },
      py::arg("descriptor"), "The fingerprint the schema compiler gives the layout a descriptor states.");
}

}  // namespace shmsnap::python
