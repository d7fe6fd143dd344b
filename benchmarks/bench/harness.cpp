// The orchestrator side of one configuration (see harness.hpp).
#include "bench/harness.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <thread>

#include "bench/clock.hpp"
#include "bench/deadline_alarm.hpp"
#include "bench/pacer.hpp"
#include "bench/payload.hpp"
#include "bench/process.hpp"
#include "bench/subscriber_report.hpp"

namespace shmsnap::bench {
namespace {

constexpr std::int64_t ns_per_ms = 1'000'000;
constexpr std::int64_t attach_timeout_ns = 10'000 * ns_per_ms;
constexpr std::int64_t report_timeout_ns = 30'000 * ns_per_ms;
constexpr std::int64_t max_mode_min_ns = 1'000 * ns_per_ms;

// How long publishing may take before the run is cut short: generous against the
// paced duration, fixed for max mode (where the slowest transport sets the pace).
std::int64_t publish_budget_ns(const RunSettings& settings) {
  const auto total = static_cast<double>(settings.samples + settings.warmup);
  if (settings.rate_hz <= 0)
    return 60'000 * ns_per_ms;
  return 15'000 * ns_per_ms + static_cast<std::int64_t>(4e9 * total / settings.rate_hz);
}

int subscriber_cpu(const RunSettings& settings, int index) {
  if (!settings.pin)
    return -1;
  if (settings.cpus <= 1)
    return 0;
  return 1 + index % (settings.cpus - 1);
}

struct Child {
  pid_t pid = -1;
  int result_fd = -1;
};

// Owns the subscriber processes of one configuration: whatever happens, they are
// reaped (killed after a grace period) and their pipes closed.
class ChildSet {
 public:
  ~ChildSet() { reap(monotonic_ns() + 2'000 * ns_per_ms); }
  void add(Child child) { children_.push_back(child); }
  std::vector<Child>& children() noexcept { return children_; }
  void reap(std::int64_t deadline_ns) noexcept {
    for (auto& child : children_) {
      if (child.pid > 0)
        reap_process(child.pid, deadline_ns);
      if (child.result_fd >= 0)
        close(child.result_fd);
      child = Child{};
    }
  }

 private:
  std::vector<Child> children_;
};

std::vector<std::string> subscriber_argv(const RunSettings& settings, const ChannelSpec& spec,
                                         const std::string& transport, int index, const std::string& endpoint,
                                         int result_fd, std::int64_t budget_ms) {
  return {settings.executable,
          "--role=subscriber",
          "--transport-name=" + transport,
          "--mode-name=" + spec.mode,
          "--payload-bytes=" + std::to_string(spec.payload_bytes),
          "--used-bytes=" + std::to_string(spec.used_bytes),
          "--subscriber-count=" + std::to_string(spec.subscribers),
          "--index=" + std::to_string(index),
          "--run-name=" + spec.run_name,
          "--endpoint=" + endpoint,
          "--result-fd=" + std::to_string(result_fd),
          "--warmup=" + std::to_string(settings.warmup),
          std::string("--max-rate=") + (spec.max_rate ? "1" : "0"),
          "--budget-ms=" + std::to_string(budget_ms)};
}

void fail(RowResult& row, const std::string& why) {
  row.failed = true;
  row.note += (row.note.empty() ? "" : "; ") + why;
}

void aggregate(RowResult& row, std::vector<SubscriberReport>& reports) {
  std::vector<std::int64_t> pooled;
  double throughput_sum = 0;
  for (std::size_t index = 0; index < reports.size(); ++index) {
    auto& report = reports[index];
    if (report.status != "ok") {
      row.note += (row.note.empty() ? "" : "; ") + ("subscriber " + std::to_string(index) + ": " + report.status);
      if (report.status.starts_with("timeout"))
        row.truncated = true;
    }
    row.skipped += report.skipped;
    row.retries += report.retries;
    row.torn += report.torn;
    if (report.received > 1 && report.last_receive_ns > report.first_receive_ns) {
      throughput_sum += 1e9 * static_cast<double>(report.received - 1) /
                        static_cast<double>(report.last_receive_ns - report.first_receive_ns);
    }
    pooled.insert(pooled.end(), report.latencies_ns.begin(), report.latencies_ns.end());
    row.per_subscriber.push_back(stats::summarize(report.latencies_ns));
  }
  row.throughput_hz = reports.empty() ? 0 : throughput_sum / static_cast<double>(reports.size());
  row.pooled = stats::summarize(pooled);
  row.cdf = stats::cdf_points(pooled, 200);
}

// Why `spec`'s used length cannot run on `transport`, or nullopt. Checked after the
// payload itself, before the transport's own limits.
std::optional<std::string> used_not_applicable(const Transport& transport, const ChannelSpec& spec) {
  if (spec.used_bytes == spec.payload_bytes)
    return std::nullopt;
  if (spec.used_bytes > spec.payload_bytes)
    return "used " + std::to_string(spec.used_bytes) + " B exceeds the payload";
  if (spec.used_bytes < header_bytes || spec.used_bytes % payload_granularity != 0)
    return "used bytes must be a multiple of 8 and at least " + std::to_string(header_bytes);
  if (!transport.carries_used_prefix()) {
    return std::string(transport.name()) + " sends whole messages; the equivalent row is --payloads " +
           std::to_string(spec.used_bytes);
  }
  return std::nullopt;
}

// The part of a message the harness stamps: its used prefix (a failed iceoryx loan
// hands out a scratch buffer, hence the bound).
std::span<std::byte> used_prefix(std::span<std::byte> message, std::size_t used_bytes) noexcept {
  return message.first(std::min(message.size(), used_bytes));
}

// One "Rss:"/"Pss:" line of /proc/<pid>/smaps_rollup in KiB; 0 when unreadable.
double memory_kib(pid_t pid, const std::string& key) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string line;
  while (std::getline(file, line)) {
    if (line.starts_with(key))
      return std::strtod(line.c_str() + key.size(), nullptr);
  }
  return 0;
}

}  // namespace

RowResult run_configuration(const Transport& transport, const std::string& mode, std::size_t payload_bytes,
                            std::size_t used_bytes, int subscribers, const RunSettings& settings, int config_number) {
  RowResult row;
  row.transport = std::string(transport.name());
  row.mode = mode;
  row.payload_bytes = payload_bytes;
  row.used_bytes = used_bytes;
  row.subscribers = subscribers;
  const ChannelSpec spec{.run_name = settings.run_prefix + "." + std::to_string(config_number),
                         .mode = mode,
                         .payload_bytes = payload_bytes,
                         .used_bytes = used_bytes,
                         .subscribers = subscribers,
                         .max_rate = settings.rate_hz <= 0,
                         .slot_count = settings.slot_count};
  // The publisher also spins (pacing tail, or flat out in max mode), hence the +1.
  row.oversubscribed = transport.busy_waits(mode) && subscribers + 1 > settings.cpus;
  if (payload_bytes < header_bytes || payload_bytes % payload_granularity != 0) {
    row.applicable = false;
    row.note = "payload must be a multiple of 8 and at least " + std::to_string(header_bytes) + " bytes";
    return row;
  }
  if (auto why = used_not_applicable(transport, spec)) {
    row.applicable = false;
    row.note = *why;
    return row;
  }
  if (auto why = transport.not_applicable(spec)) {
    row.applicable = false;
    row.note = *why;
    return row;
  }

  const std::int64_t budget_ns = publish_budget_ns(settings);
  // Declared before the publisher so that on an early return the channel is torn down
  // first: pipe and socket subscribers then see EOF and exit instead of being killed.
  ChildSet children;
  std::unique_ptr<PublisherChannel> publisher;
  try {
    publisher = transport.create_publisher(spec);
    for (int index = 0; index < subscribers; ++index) {
      int result_pipe[2];
      if (pipe2(result_pipe, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe2 for subscriber results failed");
      std::vector<int> inherit = publisher->inherited_fds(index);
      inherit.push_back(result_pipe[1]);
      const auto argv = subscriber_argv(settings, spec, row.transport, index, publisher->endpoint(index),
                                        result_pipe[1], (budget_ns + attach_timeout_ns) / ns_per_ms);
      Child child{.pid = -1, .result_fd = result_pipe[0]};
      try {
        child.pid = spawn_process(argv, inherit, subscriber_cpu(settings, index));
      } catch (...) {
        close(result_pipe[0]);
        close(result_pipe[1]);
        throw;
      }
      close(result_pipe[1]);
      children.add(child);
    }
    publisher->subscribers_spawned();
  } catch (const std::exception& error) {
    fail(row, std::string("setup: ") + error.what());
    return row;
  }

  const std::int64_t attach_deadline = monotonic_ns() + attach_timeout_ns;
  for (std::size_t index = 0; index < children.children().size(); ++index) {
    if (!read_ready(children.children()[index].result_fd, attach_deadline)) {
      fail(row, "subscriber " + std::to_string(index) + " did not attach (its error is on stderr)");
      return row;
    }
  }
  // A subscriber signals ready once attached; give a publisher-side registration
  // (shmsnap's HELLO handling) a moment too. Warm-up absorbs anything later.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));

  const std::uint64_t total = settings.warmup + settings.samples;
  std::uint64_t last_seq = 0;
  std::vector<std::int64_t> publish_costs;
  publish_costs.reserve(settings.samples);
  {
    const ScopedPin pin(settings.pin ? 0 : -1);
    const std::int64_t deadline = monotonic_ns() + budget_ns;
    const DeadlineAlarm alarm(deadline);
    Pacer pacer(settings.rate_hz);
    std::int64_t measured_start = 0;
    std::int64_t measured_end = 0;
    // Max mode also runs for at least max_mode_min_ns: a latest-state transport
    // publishes `total` in a millisecond and its subscribers would see only the last
    // one; bounded so a fast queue cannot fill memory with samples.
    const bool max_rate = settings.rate_hz <= 0;
    const std::int64_t run_start = monotonic_ns();
    auto keep_publishing = [&](std::uint64_t seq) {
      if (seq <= total)
        return true;
      return max_rate && seq <= 100 * total && monotonic_ns() - run_start < max_mode_min_ns;
    };
    for (std::uint64_t seq = 1; keep_publishing(seq); ++seq) {
      // Asked for every message: a zero-copy transport hands out a new chunk each time.
      const std::span<std::byte> message = used_prefix(publisher->buffer(), used_bytes);
      stamp_message(message, seq, 0);
      pacer.wait_next_tick();
      const std::int64_t publish_ns = monotonic_ns();
      if (seq == settings.warmup + 1)
        measured_start = publish_ns;
      stamp_publish_time(message, publish_ns);
      if (!publisher->publish(deadline)) {
        if (monotonic_ns() > deadline) {
          row.truncated = true;
          row.note = "time budget ended publishing at seq " + std::to_string(seq);
        } else {
          fail(row, "publish: " + publisher->last_error());
        }
        break;
      }
      last_seq = seq;
      measured_end = monotonic_ns();
      if (seq > settings.warmup)
        publish_costs.push_back(measured_end - publish_ns);
    }
    row.publish_cost = stats::summarize(publish_costs);
    // Memory per subscriber while attached and warm, before the stop message ends them.
    for (const auto& child : children.children()) {
      row.subscriber_rss_kib += memory_kib(child.pid, "Rss:") / static_cast<double>(subscribers);
      row.subscriber_pss_kib += memory_kib(child.pid, "Pss:") / static_cast<double>(subscribers);
    }
    row.published = last_seq > settings.warmup ? last_seq - settings.warmup : 0;
    if (measured_end > measured_start && row.published > 0) {
      row.publish_hz = 1e9 * static_cast<double>(row.published) / static_cast<double>(measured_end - measured_start);
    }
    if (!row.failed) {
      const std::span<std::byte> message = used_prefix(publisher->buffer(), used_bytes);
      stamp_message(message, last_seq + 1, stop_flag);
      stamp_publish_time(message, monotonic_ns());
      if (!publisher->publish(std::max(deadline, monotonic_ns()) + 5'000 * ns_per_ms)) {
        fail(row, "stop message: " + publisher->last_error());
      }
    }
  }
  if (row.failed)
    return row;

  std::vector<SubscriberReport> reports;
  const std::int64_t report_deadline = monotonic_ns() + report_timeout_ns;
  for (std::size_t index = 0; index < children.children().size(); ++index) {
    auto report = read_report(children.children()[index].result_fd, report_deadline);
    if (!report) {
      fail(row, "subscriber " + std::to_string(index) + " sent no report");
      return row;
    }
    reports.push_back(std::move(*report));
  }
  children.reap(monotonic_ns() + 5'000 * ns_per_ms);
  publisher.reset();
  aggregate(row, reports);
  return row;
}

}  // namespace shmsnap::bench
