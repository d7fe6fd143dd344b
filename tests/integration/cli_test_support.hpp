// Shared helpers of the CLI tests (cli_*_test.cpp): start the real shmsnap
// binaries under the test's prefix, read their JSON lines, and run the admin CLI
// in-process with string streams.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin_cli.hpp"
#include "support/fixture.hpp"

namespace shmsnap::test {

/// What an in-process run of a CLI printed and returned.
struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

class CliTest : public ProcessTest {
 protected:
  /// Starts bin_dir()/`binary` with `arguments`, killed if this test process dies.
  /// With `merge_stderr` the child's stderr joins its stdout (through /bin/sh), so
  /// messages can be checked.
  ChildProcess& launch(const std::string& binary, std::vector<std::string> arguments, bool merge_stderr = false) {
    std::vector<std::string> argv;
    // A test killed by its ctest TIMEOUT must not leave daemons behind: they would
    // keep its prefix's queues alive. setpriv execs, so the pid stays the binary's.
    if (::access("/usr/bin/setpriv", X_OK) == 0) {
      argv = {"/usr/bin/setpriv", "--pdeathsig", "KILL"};
    }
    if (merge_stderr) {
      argv.insert(argv.end(), {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1"});
    }
    argv.push_back(bin_dir() + "/" + binary);
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    children_.emplace_back(std::make_unique<ChildProcess>(std::move(argv)));
    return *children_.back();
  }

  /// Starts shmsnap-publisher for `topic` under this test's prefix.
  ChildProcess& publisher(const std::string& topic, const std::string& schema, std::vector<std::string> extra = {}) {
    std::vector<std::string> arguments{"--topic",  topic,   "--schema",    schema,
                                       "--prefix", prefix_, "--log-level", "warn"};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    return launch("shmsnap-publisher", std::move(arguments));
  }

  /// Starts shmsnap-subscriber --json as `id` on `topics` under this test's prefix.
  ChildProcess& daemon(const std::vector<std::string>& topics, const std::string& id,
                       std::vector<std::string> extra = {}) {
    std::vector<std::string> arguments{"--id", id, "--prefix", prefix_, "--json", "--log-level", "warn"};
    for (const std::string& topic : topics) {
      arguments.insert(arguments.end(), {"--topic", topic});
    }
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    return launch("shmsnap-subscriber", std::move(arguments));
  }

  /// Runs the admin CLI in-process: `shmsnap <arguments...>`.
  static CliResult admin(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), "shmsnap");
    std::ostringstream out;
    std::ostringstream err;
    std::atomic<bool> stop{false};
    app::Io io{out, err, stop};
    CliResult result;
    result.code = app::run_admin(arguments, io);
    result.out = out.str();
    result.err = err.str();
    return result;
  }

  /// The queue name "/<prefix>.<suffix>", inside the leftover check's view.
  [[nodiscard]] std::string queue(const std::string& suffix) const { return "/" + prefix_ + ":" + suffix; }
};

/// Reads JSON lines from `child` until one satisfies `wanted`; every line must parse.
inline std::optional<nlohmann::json> next_json(ChildProcess& child,
                                               const std::function<bool(const nlohmann::json&)>& wanted,
                                               std::chrono::milliseconds timeout = patience) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const std::optional<std::string> line = child.read_line(left);
    if (!line) {
      return std::nullopt;
    }
    nlohmann::json parsed = nlohmann::json::parse(*line, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << *line;
    if (!parsed.is_discarded() && wanted(parsed)) {
      return parsed;
    }
  }
  return std::nullopt;
}

/// A refresh object (not a status event).
inline bool is_refresh(const nlohmann::json& line) {
  return line.contains("seq") && !line.contains("event");
}

/// A status object with this event.
inline std::function<bool(const nlohmann::json&)> is_event(const std::string& event) {
  return [event](const nlohmann::json& line) { return line.value("event", "") == event; };
}

}  // namespace shmsnap::test
