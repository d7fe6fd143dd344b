// shmsnap-bench command line and run loop (see cli.hpp).
#include "bench/cli.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>

#include "bench/cleanup.hpp"
#include "bench/harness.hpp"
#include "bench/plot.hpp"
#include "bench/process.hpp"
#include "bench/report.hpp"

namespace shmsnap::bench {
namespace {

struct Options {
  bool quick = false;
  std::vector<std::string> transports;
  std::vector<std::string> modes{"notify", "spin", "hybrid"};
  std::vector<std::size_t> payloads{64, 1024, 65536, 1048576};
  std::vector<std::size_t> used;  // empty: every message whole (used == payload)
  std::vector<int> subscribers{1, 2, 4, 8, 16};
  std::string rate = "10000";
  std::size_t samples = 20'000;
  std::size_t warmup = 0;  // 0: a tenth of the samples, between 100 and 2000
  bool pin = false;
  std::uint32_t slots = 0;  // 0: the library's default
  std::string json_path, csv_path, plot_path;
};

struct Row {
  std::string transport;
  std::string mode;
  std::size_t payload;
  std::size_t used;
  int subscribers;
};

// The POSIX queue baseline needs N queues of 10 x payload inside RLIMIT_MSGQUEUE;
// raising the soft limit to the hard one (free, no privilege) lets more of them fit.
void raise_mqueue_limit() noexcept {
  rlimit limit{};
  if (getrlimit(RLIMIT_MSGQUEUE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_MSGQUEUE, &limit);
  }
}

std::string describe(const RowResult& row) {
  if (!row.applicable)
    return "n/a (" + row.note + ")";
  if (row.failed)
    return "FAILED (" + row.note + ")";
  std::ostringstream text;
  text << std::fixed << std::setprecision(2) << "p50 " << static_cast<double>(row.pooled.p50_ns) / 1000.0 << " us, p99 "
       << static_cast<double>(row.pooled.p99_ns) / 1000.0 << " us, " << row.pooled.samples << " samples";
  if (row.torn > 0)
    text << ", TORN " << row.torn;
  return text.str();
}

int run_matrix(const Options& options) {
  RunSettings settings;
  if (options.rate == "max") {
    settings.rate_hz = 0;
  } else {
    try {
      settings.rate_hz = std::stod(options.rate);
    } catch (const std::exception&) {
      settings.rate_hz = -1;
    }
    if (!(settings.rate_hz > 0)) {
      std::cerr << "shmsnap-bench: --rate must be a positive number of Hz or 'max', not '" << options.rate << "'\n";
      return 2;
    }
  }
  settings.samples = options.samples;
  settings.warmup = options.warmup > 0 ? options.warmup : std::clamp<std::size_t>(options.samples / 10, 100, 2000);
  settings.pin = options.pin;
  settings.slot_count = options.slots;
  settings.cpus = usable_cpus();
  settings.executable = self_executable();
  settings.run_prefix = "shmsnapbench" + std::to_string(getpid());

  std::vector<std::unique_ptr<Transport>> transports;
  const auto names = options.transports.empty() ? available_transports() : options.transports;
  for (const auto& name : names) {
    try {
      transports.push_back(make_transport(name));
    } catch (const std::invalid_argument& error) {
      std::cerr << "shmsnap-bench: " << error.what() << '\n';
      return 2;
    }
  }
  for (const auto& why : skipped_transports())
    std::cerr << "shmsnap-bench: transport " << why << '\n';
  const int max_subscribers =
      options.subscribers.empty() ? 1 : *std::max_element(options.subscribers.begin(), options.subscribers.end());
  for (auto& transport : transports)
    transport->prepare_run(options.payloads, max_subscribers);
  std::vector<Row> matrix;
  for (std::size_t payload : options.payloads) {
    // Without --used each message is whole; with it, one row per used length (n/a
    // where it exceeds the payload, or the transport cannot send a part of a message).
    const std::vector<std::size_t> used_lengths =
        options.used.empty() ? std::vector<std::size_t>{payload} : options.used;
    for (std::size_t used : used_lengths) {
      for (int subscribers : options.subscribers) {
        for (const auto& transport : transports) {
          for (const auto& mode : transport->modes(options.modes)) {
            matrix.push_back({std::string(transport->name()), mode, payload, used, subscribers});
          }
        }
      }
    }
  }
  // Paced time plus measured per-row overhead (process start, attach, reports); rows
  // whose fan-out cannot keep the rate (1 MiB x 16 over a pipe) take longer, up to
  // their budget, hence "at least".
  double estimate_s = 0;
  for (const auto& row : matrix) {
    estimate_s +=
        0.25 + 0.01 * row.subscribers +
        (settings.rate_hz > 0 ? static_cast<double>(settings.samples + settings.warmup) / settings.rate_hz : 1.0);
  }
  std::cerr << "shmsnap-bench: " << matrix.size() << " rows, at least " << static_cast<int>(estimate_s) << " s"
            << (settings.rate_hz > 0 ? "" : " (max mode: depends on the slowest transport)") << ", " << settings.cpus
            << " CPUs, names prefixed " << settings.run_prefix << '\n';

  std::vector<RowResult> rows;
  int config_number = 0;
  for (const auto& row : matrix) {
    const auto& transport = *std::find_if(transports.begin(), transports.end(),
                                          [&](const auto& candidate) { return candidate->name() == row.transport; });
    std::cerr << "[" << std::setw(3) << config_number + 1 << "/" << matrix.size() << "] " << row.transport << ' '
              << row.mode << ' ' << row.payload << " B";
    if (row.used != row.payload)
      std::cerr << " (used " << row.used << " B)";
    std::cerr << " x" << row.subscribers << ": " << std::flush;
    rows.push_back(
        run_configuration(*transport, row.mode, row.payload, row.used, row.subscribers, settings, config_number++));
    std::cerr << describe(rows.back()) << '\n';
  }

  attach_ratios(rows);
  print_table(std::cout, rows, settings);
  std::cout.flush();
  int exit_code = 0;
  for (const auto& row : rows) {
    if (row.failed || row.torn > 0)
      exit_code = 1;
  }
  try {
    if (!options.json_path.empty())
      write_json(options.json_path, rows, settings);
    if (!options.csv_path.empty())
      write_csv(options.csv_path, rows);
  } catch (const std::exception& error) {
    std::cerr << "shmsnap-bench: " << error.what() << '\n';
    return 2;
  }
  if (!options.plot_path.empty())
    std::cerr << "shmsnap-bench: " << write_plot(options.plot_path, rows).message << '\n';
  return exit_code;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{
      "shmsnap-bench: one-way latency of shmsnap against POSIX MQ, Unix sockets, pipes, SysV queues, "
      "Boost.Interprocess and a cache-line floor, with real publisher and subscriber processes"};
  Options options;
  app.add_flag(
      "--quick", options.quick,
      "about a minute: shmsnap notify+spin, 64 B and 64 KiB, 1 and 4 subscribers, every baseline, 10000 samples");
  app.add_option("--transports", options.transports, "comma list (default: all in this build)")->delimiter(',');
  app.add_option("--modes", options.modes, "shmsnap wait modes: notify,spin,hybrid")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--payloads", options.payloads, "message sizes in bytes (multiples of 8, >= 32)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--used", options.used,
                 "variable-size rows: publish and check only the first BYTES of each message (shmsnap, "
                 "shmsnap-sock; n/a elsewhere below the payload); one row per value and payload, n/a above it")
      ->delimiter(',');
  app.add_option("--subscribers", options.subscribers, "subscriber process counts")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--rate", options.rate, "publish rate in Hz, or 'max' for unpaced throughput")->capture_default_str();
  auto* samples_option =
      app.add_option("--samples", options.samples, "measured publishes per row")->capture_default_str();
  app.add_option("--warmup", options.warmup, "publishes before the samples, excluded (default: samples/10, 100..2000)");
  app.add_option("--slots", options.slots,
                 "shmsnap's slots per topic (2..255; default the library's, 3): more keep big snapshots "
                 "readable under a fast writer, at one payload of memory each")
      ->check(CLI::Range(2, 255));
  app.add_flag("--pin", options.pin, "pin the publisher to CPU 0 and subscribers round-robin to the others");
  app.add_option("--json", options.json_path, "write the records as a JSON array");
  app.add_option("--csv", options.csv_path, "write the records as CSV");
  app.add_option("--plot", options.plot_path, "write a PNG (needs gnuplot; skipped with a message otherwise)");

  // The hidden subscriber role: how the orchestrator starts its children.
  std::string role;
  SubscriberRoleArgs sub;
  int max_rate = 0;
  const std::string hidden;  // an empty group hides the options from --help
  app.add_option("--role", role)->group(hidden);
  app.add_option("--transport-name", sub.transport)->group(hidden);
  app.add_option("--mode-name", sub.mode)->group(hidden);
  app.add_option("--payload-bytes", sub.payload_bytes)->group(hidden);
  app.add_option("--used-bytes", sub.used_bytes)->group(hidden);
  app.add_option("--subscriber-count", sub.subscribers)->group(hidden);
  app.add_option("--index", sub.index)->group(hidden);
  app.add_option("--run-name", sub.run_name)->group(hidden);
  app.add_option("--endpoint", sub.endpoint)->group(hidden);
  app.add_option("--result-fd", sub.result_fd)->group(hidden);
  app.add_option("--max-rate", max_rate)->group(hidden);
  app.add_option("--budget-ms", sub.budget_ms)->group(hidden);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }

  if (role == "subscriber") {
    sub.warmup = options.warmup;
    sub.max_rate = max_rate != 0;
    return run_subscriber_role(sub);
  }
  if (!role.empty()) {
    std::cerr << "shmsnap-bench: unknown role '" << role << "'\n";
    return 2;
  }
  if (options.quick) {
    options.modes = {"notify", "spin"};
    options.payloads = {64, 65536};
    options.subscribers = {1, 4};
    if (samples_option->count() == 0)
      options.samples = 10'000;
  }

  cleanup::install_signal_handlers();
  raise_mqueue_limit();
  int exit_code = 2;
  try {
    exit_code = run_matrix(options);
  } catch (const std::exception& error) {
    std::cerr << "shmsnap-bench: " << error.what() << '\n';
  }
  // Normal paths removed everything already; this catches whatever an exception skipped.
  cleanup::remove_everything();
  return exit_code;
}

}  // namespace shmsnap::bench
