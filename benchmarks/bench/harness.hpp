// Runs one benchmark configuration end to end: the calling process is the publisher,
// N subscriber processes are fork/exec'd copies of this binary in the hidden
// "subscriber" role, and their samples come back over pipes. Orchestrator main thread
// only (it forks, arms SIGALRM and may pin itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/transport.hpp"
#include "latency_summary.hpp"

namespace shmsnap::bench {

/// Settings shared by every configuration of one run.
struct RunSettings {
  double rate_hz = 10'000;       ///< publish rate; 0 = max (unpaced, throughput mode)
  std::size_t samples = 20'000;  ///< measured publishes per configuration (max mode: and >= 1 s)
  std::size_t warmup = 2'000;    ///< publishes before them, excluded from every statistic
  bool pin = false;              ///< publisher on CPU 0, subscribers round-robin on the others
  std::uint32_t slot_count = 0;  ///< shmsnap's slots per topic (--slots); 0: the library's default
  int cpus = 1;                  ///< CPUs available, for pinning and the oversubscription flag
  std::string executable;        ///< the binary exec'd for subscribers (normally this one)
  std::string run_prefix;        ///< unique per run (contains the pid); prefixes every OS name
};

/// One row of the report: one transport, mode, payload size, used length and subscriber count.
struct RowResult {
  std::string transport;
  std::string mode;
  std::size_t payload_bytes = 0;
  std::size_t used_bytes = 0;  ///< bytes of each message published and checked; payload_bytes unless --used
  int subscribers = 0;

  bool applicable = true;       ///< false: the transport cannot carry this configuration (see note)
  bool failed = false;          ///< the run broke (setup error, subscriber died); see note
  bool truncated = false;       ///< the time budget ended publishing early
  bool oversubscribed = false;  ///< busy-waiting subscribers + the publisher exceed the CPUs
  std::string note;             ///< why n/a, what failed, or subscriber status lines

  stats::LatencySummary pooled;  ///< every subscriber's samples together
  std::vector<stats::LatencySummary> per_subscriber;
  std::vector<stats::CdfPoint> cdf;    ///< of the pooled samples, for plots
  double throughput_hz = 0;            ///< deliveries per second per subscriber (mean)
  double publish_hz = 0;               ///< publishes per second achieved by the publisher
  std::uint64_t published = 0;         ///< measured publishes
  std::uint64_t skipped = 0;           ///< measured publishes a subscriber never saw (coalesced)
  std::uint64_t retries = 0;           ///< seqlock read retries, all subscribers
  std::uint64_t torn = 0;              ///< deliveries that failed the self-check (must be 0)
  stats::LatencySummary publish_cost;  ///< publisher->publish() as the caller sees it, measured publishes
  double subscriber_rss_kib = 0;       ///< mean resident set of a subscriber process, read before the stop message
  double subscriber_pss_kib = 0;       ///< the same as proportional set size (shared pages split among mappers)

  // Filled by attach_ratios() in report.hpp.
  std::optional<double> p50_vs_posix_mq, p99_vs_posix_mq, p50_vs_floor, p99_vs_floor;
  /// A used row (used_bytes < payload_bytes) against the same transport, mode and
  /// subscriber count with payload_bytes == this row's used_bytes.
  std::optional<double> p50_vs_used_payload, p99_vs_used_payload;
};

/// Runs one configuration; never throws for a transport failure (the row says failed).
/// `used_bytes` of each `payload_bytes` message are published (see ChannelSpec).
[[nodiscard]] RowResult run_configuration(const Transport& transport, const std::string& mode,
                                          std::size_t payload_bytes, std::size_t used_bytes, int subscribers,
                                          const RunSettings& settings, int config_number);

/// Arguments of the hidden subscriber role, as the orchestrator passes them.
struct SubscriberRoleArgs {
  std::string transport;
  std::string mode;
  std::size_t payload_bytes = 0;
  std::size_t used_bytes = 0;  ///< 0: the whole payload
  int subscribers = 1;
  int index = 0;
  std::string run_name;
  std::string endpoint;
  int result_fd = -1;
  std::size_t warmup = 0;
  bool max_rate = false;
  std::int64_t budget_ms = 60'000;  ///< give up (and report what it has) after this long
};

/// Body of a subscriber process: attach, signal ready, receive until the stop
/// message, write the report. Returns the process exit code.
[[nodiscard]] int run_subscriber_role(const SubscriberRoleArgs& args);

}  // namespace shmsnap::bench
