// shmsnap._shmsnap.Subscriber: UntypedSubscriber(topic, nullptr, ...) follows any topic
// as bytes; snapshots leave as dicts (SnapshotCodec) or numpy records (a dtype from
// the descriptor). wait() blocks with the GIL released. Core access is serialised by
// a mutex taken without the GIL (lock order: mutex, then GIL), so Python threads may
// share a subscriber; status events are queued by the core and handed to the Python
// callbacks after the GIL is back. The core's wait ends at a status event
// (wait_returns_on_status), so the callbacks run as the event happens.
#include <Python.h>
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pythread.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "dtype.hpp"
#include "json_objects.hpp"
#include "schema_argument.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/schema_json.hpp"
#include "shmsnap/subscriber.hpp"

namespace py = pybind11;

namespace shmsnap::python {
namespace {

// The main thread waits in slices so Ctrl-C (a signal handled only there) interrupts
// a long wait(); other threads block in one call.
constexpr std::chrono::milliseconds main_thread_slice{200};
constexpr std::chrono::hours forever_slice{24};

unsigned long main_thread_ident = 0;

// SubscriberStats as Python sees it, the one list of its counters: stats() builds
// its dict from it and the module exports the names (SUBSCRIBER_STATS_FIELDS) for
// the tests, which compare them with the C++ header and the .pyi. A counter added to
// the C++ struct without a row here fails the static_assert.
constexpr std::array<std::pair<const char*, std::uint64_t SubscriberStats::*>, 7> subscriber_stats_fields{{
    {"delivered", &SubscriberStats::delivered},
    {"wakeups", &SubscriberStats::wakeups},
    {"skipped", &SubscriberStats::skipped},
    {"retries", &SubscriberStats::retries},
    {"reattached", &SubscriberStats::reattached},
    {"contended", &SubscriberStats::contended},
    {"inconsistent", &SubscriberStats::inconsistent},
}};
static_assert(sizeof(SubscriberStats) == subscriber_stats_fields.size() * sizeof(std::uint64_t),
              "SubscriberStats changed: list every counter in subscriber_stats_fields");

WaitMode parse_mode(const std::string& mode) {
  if (mode == "notify") {
    return WaitMode::notify;
  }
  if (mode == "spin") {
    return WaitMode::spin;
  }
  if (mode == "hybrid") {
    return WaitMode::hybrid;
  }
  throw Error(Errc::invalid_argument, "mode '" + mode + "' is not a wait mode; use 'notify', 'spin' or 'hybrid'");
}

// As the command-line tools default --socket-dir: $SHMSNAP_SOCKET_DIR, else named mode.
std::string default_socket_dir() {
  const char* directory = std::getenv("SHMSNAP_SOCKET_DIR");
  return directory != nullptr ? directory : "";
}

// The names the C++ subscriber daemon prints for the same events.
const char* event_name(StatusEvent event) {
  switch (event) {
    case StatusEvent::publisher_lost:
      return "publisher_lost";
    case StatusEvent::reattached:
      return "reattached";
    case StatusEvent::publisher_stalled:
      return "publisher_stalled";
    case StatusEvent::publisher_resumed:
      return "publisher_resumed";
  }
  return "unknown";
}

class PySubscriber {
 public:
  PySubscriber(const std::string& topic, const std::optional<std::string>& prefix, const std::optional<std::string>& id,
               const std::string& mode, const py::object& schema, const std::optional<std::string>& socket_dir) {
    SubscriberOptions options{
        .prefix = prefix.value_or(""), .id = id.value_or(""), .mode = parse_mode(mode), .wait_returns_on_status = true};
    options.socket_dir = socket_dir ? *socket_dir : default_socket_dir();
    if (!schema.is_none()) {
      expected_ = schema_from_argument(schema);
      expected_info_ = expected_->info();
    }
    {
      // Attaching waits for the publisher's WELCOME: let other threads run meanwhile.
      py::gil_scoped_release release;
      core_ = std::make_unique<UntypedSubscriber>(topic, expected_ ? &expected_info_ : nullptr, options);
    }
    core_->on_status([this](StatusEvent event, const UpdateInfo& info) { pending_events_.emplace_back(event, info); });
  }

  ~PySubscriber() { close(); }
  PySubscriber(const PySubscriber&) = delete;
  PySubscriber& operator=(const PySubscriber&) = delete;

  void close() {
    if (core_) {
      std::unique_lock<std::mutex> lock = lock_core();
      core_.reset();  // BYE, then the notify queue is closed and unlinked
    }
  }

  bool closed() const noexcept { return !core_; }

  bool wait(std::optional<double> timeout_seconds) {
    const bool forever = !timeout_seconds.has_value();
    if (!forever && (!std::isfinite(*timeout_seconds) || *timeout_seconds < 0)) {
      throw Error(Errc::invalid_argument, "wait(timeout): give seconds >= 0, or None to wait forever");
    }
    const auto start = std::chrono::steady_clock::now();
    const auto timeout = forever ? std::chrono::nanoseconds::max()
                                 : std::chrono::nanoseconds(static_cast<std::int64_t>(*timeout_seconds * 1e9));
    const bool on_main_thread = PyThread_get_thread_ident() == main_thread_ident;
    while (true) {
      std::chrono::nanoseconds slice = forever ? std::chrono::nanoseconds(forever_slice) : timeout;
      if (!forever) {
        slice = std::max(std::chrono::nanoseconds(0), timeout - (std::chrono::steady_clock::now() - start));
      }
      if (on_main_thread) {
        slice = std::min<std::chrono::nanoseconds>(slice, main_thread_slice);
      }
      bool delivered = false;
      bool status_changed = false;
      {
        py::gil_scoped_release release;
        const std::lock_guard<std::mutex> lock(mutex_);
        delivered = usable().wait(slice);
        status_changed = !pending_events_.empty();
      }
      dispatch_events();
      // A status event ends the wait like an update: the callbacks have just seen it,
      // and the caller can look at stale / info now, not at its deadline.
      if (delivered || status_changed) {
        return delivered;
      }
      if (PyErr_CheckSignals() != 0) {
        throw py::error_already_set();
      }
      if (!forever && std::chrono::steady_clock::now() - start >= timeout) {
        return false;
      }
    }
  }

  bool poll() {
    bool delivered = false;
    {
      std::unique_lock<std::mutex> lock = lock_core();
      delivered = usable().poll();
    }
    dispatch_events();
    return delivered;
  }

  py::object latest() {
    std::unique_lock<std::mutex> lock = lock_core();
    UntypedSubscriber& core = usable();
    if (!core.has_value()) {
      return py::none();
    }
    return to_python(codec(core).decode_ordered(core.bytes(), SnapshotCodec::NonFinite::as_numbers));
  }

  py::object latest_array() {
    std::unique_lock<std::mutex> lock = lock_core();
    UntypedSubscriber& core = usable();
    if (!core.has_value()) {
      return py::none();
    }
    py::object type = dtype_locked(core);
    py::array array(py::dtype::from_args(type), std::vector<py::ssize_t>{});
    const std::span<const std::byte> bytes = core.bytes();
    // numpy leaves a new array's memory uninitialised; with a bounded sequence only its
    // used prefix arrives, so the elements past the count read as zero, never garbage.
    const std::size_t copied = std::min<std::size_t>(bytes.size(), array.nbytes());
    auto* out = static_cast<std::byte*>(array.mutable_data());
    std::memcpy(out, bytes.data(), copied);
    std::memset(out + copied, 0, array.nbytes() - copied);
    return array[py::tuple()];  // the 0-d array's element: a numpy.void record owning the copy
  }

  py::object dtype() {
    std::unique_lock<std::mutex> lock = lock_core();
    return dtype_locked(usable());
  }

  UpdateInfo info() {
    std::unique_lock<std::mutex> lock = lock_core();
    return usable().info();
  }

  bool has_value() {
    std::unique_lock<std::mutex> lock = lock_core();
    return usable().has_value();
  }

  bool stale() {
    std::unique_lock<std::mutex> lock = lock_core();
    return usable().stale();
  }

  int fileno() { return usable().fd(); }

  py::dict schema() {
    std::unique_lock<std::mutex> lock = lock_core();
    const SchemaInfo& schema = usable().schema();
    py::dict result;
    result["name"] = std::string(schema.name);
    result["version"] = schema.version;
    result["fingerprint"] = schema.fingerprint;
    result["size"] = schema.size;
    result["descriptor"] = std::string(schema.descriptor);
    return result;
  }

  py::dict stats() {
    std::unique_lock<std::mutex> lock = lock_core();
    const SubscriberStats stats = usable().stats();
    py::dict result;
    for (const auto& [name, counter] : subscriber_stats_fields) {
      result[name] = stats.*counter;
    }
    return result;
  }

  std::string id() { return usable().id(); }
  std::string topic() { return usable().topic(); }
  int publisher_pid() {
    std::unique_lock<std::mutex> lock = lock_core();
    return static_cast<int>(usable().publisher_pid());
  }

  void on_status(py::function callback) { status_callbacks_.push_back(std::move(callback)); }

 private:
  // Takes the core mutex without holding the GIL (see the file comment for why).
  std::unique_lock<std::mutex> lock_core() {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) {
      py::gil_scoped_release release;
      lock.lock();
    }
    return lock;
  }

  UntypedSubscriber& usable() {
    if (!core_) {
      throw Error(Errc::invalid_argument, "the subscriber is closed; create a new shmsnap.Subscriber");
    }
    return *core_;
  }

  // The layout of bytes(): the expected schema when one was given (a newer writer's
  // appended fields are not copied), else the region's.
  const std::string& local_descriptor(const UntypedSubscriber& core) const {
    return expected_ ? expected_->descriptor : core.descriptor();
  }

  // A successor publisher may carry another schema version: rebuild on change.
  const SnapshotCodec& codec(const UntypedSubscriber& core) {
    const std::string& descriptor = local_descriptor(core);
    if (!codec_ || codec_descriptor_ != descriptor) {
      codec_.emplace(descriptor);
      codec_descriptor_ = descriptor;
    }
    return *codec_;
  }

  py::object dtype_locked(const UntypedSubscriber& core) {
    const std::string& descriptor = local_descriptor(core);
    if (!dtype_ || dtype_descriptor_ != descriptor) {
      (void)codec(core);  // validates the region's descriptor (bounded nesting) before the dtype walk
      dtype_ = dtype_from_descriptor(descriptor);
      dtype_descriptor_ = descriptor;
    }
    return *dtype_;
  }

  void dispatch_events() {
    std::vector<std::pair<StatusEvent, UpdateInfo>> events;
    {
      std::unique_lock<std::mutex> lock = lock_core();
      events.swap(pending_events_);
    }
    for (const auto& [event, info] : events) {
      for (const py::function& callback : status_callbacks_) {
        callback(event_name(event), info);
      }
    }
  }

  std::optional<OwnedSchema> expected_;  // the schema= argument; expected_info_ views it
  SchemaInfo expected_info_;
  std::mutex mutex_;  // guards core_ and pending_events_ while the GIL is released
  std::unique_ptr<UntypedSubscriber> core_;
  std::vector<std::pair<StatusEvent, UpdateInfo>> pending_events_;
  std::vector<py::function> status_callbacks_;
  std::optional<SnapshotCodec> codec_;
  std::string codec_descriptor_;
  std::optional<py::object> dtype_;
  std::string dtype_descriptor_;
};

}  // namespace

void register_subscriber(py::module_& module) {
  main_thread_ident = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  py::list stats_names;
  for (const auto& [name, counter] : subscriber_stats_fields) {
    stats_names.append(name);
  }
  module.attr("SUBSCRIBER_STATS_FIELDS") = py::tuple(stats_names);

  py::class_<UpdateInfo>(module, "Info", "What came with a delivered snapshot.")
      .def_readonly("seq", &UpdateInfo::seq, "publish sequence (restarts with each epoch)")
      .def_readonly("epoch", &UpdateInfo::epoch, "publisher incarnation")
      .def_readonly("publish_ns", &UpdateInfo::publish_ts_ns, "CLOCK_MONOTONIC ns at publish")
      .def_readonly("receive_ns", &UpdateInfo::receive_ts_ns, "CLOCK_MONOTONIC ns once copied out")
      .def_readonly("skipped", &UpdateInfo::skipped, "publishes since the previous delivery never seen")
      .def_readonly("stale", &UpdateInfo::stale, "the publisher is gone; this is the last good state")
      .def_readonly("used_bytes", &UpdateInfo::used_bytes,
                    "bytes the publish wrote (a bounded sequence's elements in use); past them the copy is zeros")
      .def_property_readonly(
          "latency_ns", [](const UpdateInfo& info) { return info.receive_ts_ns - info.publish_ts_ns; },
          "receive_ns - publish_ns")
      .def("__repr__", [](const UpdateInfo& info) {
        return "Info(seq=" + std::to_string(info.seq) + ", epoch=" + std::to_string(info.epoch) +
               ", publish_ns=" + std::to_string(info.publish_ts_ns) +
               ", receive_ns=" + std::to_string(info.receive_ts_ns) + ", skipped=" + std::to_string(info.skipped) +
               ", stale=" + (info.stale ? "True" : "False") + ", used_bytes=" + std::to_string(info.used_bytes) + ")";
      });

  py::class_<PySubscriber>(module, "Subscriber", "Native subscriber; use shmsnap.Subscriber.")
      .def(py::init<const std::string&, const std::optional<std::string>&, const std::optional<std::string>&,
                    const std::string&, const py::object&, const std::optional<std::string>&>(),
           py::arg("topic"), py::arg("prefix") = py::none(), py::arg("id") = py::none(), py::arg("mode") = "notify",
           py::arg("schema") = py::none(), py::kw_only(), py::arg("socket_dir") = py::none())
      .def("close", &PySubscriber::close, "BYE to the publisher, then the notify queue is closed and removed.")
      .def_property_readonly("closed", &PySubscriber::closed)
      .def("_wait", &PySubscriber::wait, py::arg("timeout") = py::none())
      .def("_poll", &PySubscriber::poll)
      .def("latest", &PySubscriber::latest,
           "The newest snapshot as a dict (nested dicts, lists for arrays, str for char[N], enum names, "
           "float('nan')/float('inf') for non-finite floats), or None before the first.")
      .def("latest_array", &PySubscriber::latest_array,
           "The newest snapshot as a numpy structured record (a copy; dtype with the C++ offsets), or None.")
      .def_property_readonly("dtype", &PySubscriber::dtype, "numpy dtype of the followed schema")
      .def_property_readonly("info", &PySubscriber::info, "Info of the newest delivered snapshot")
      .def_property_readonly("has_value", &PySubscriber::has_value)
      .def_property_readonly("stale", &PySubscriber::stale)
      .def_property_readonly("schema", &PySubscriber::schema,
                             "name, version, fingerprint, size, descriptor of the followed region")
      .def_property_readonly("stats", &PySubscriber::stats)
      .def_property_readonly("id", &PySubscriber::id)
      .def_property_readonly("topic", &PySubscriber::topic)
      .def_property_readonly("publisher_pid", &PySubscriber::publisher_pid)
      .def("fileno", &PySubscriber::fileno,
           "Readable when there is work: register it with selectors/asyncio and call poll() then.")
      .def("on_status", &PySubscriber::on_status, py::arg("callback"),
           "callback(event, info) with event 'publisher_lost', 'reattached', 'publisher_stalled' or "
           "'publisher_resumed', called from wait()/poll() as the event happens (wait() then returns).");
}

}  // namespace shmsnap::python
