// Test support: start real processes (fork/exec), read their stdout line by line
// with bounded waits, signal them, and reap them. Every wait has a timeout so a
// hung child fails the test instead of stalling the suite.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace shmsnap::test {

/// Directory of the built binaries: $SHMSNAP_BIN_DIR, else the test binary's own.
std::string bin_dir();

/// A unique, valid resource prefix for one test ("t<pid>_<n>").
std::string unique_prefix();

class ChildProcess {
 public:
  /// Starts `argv` (argv[0] is a path); its stdout is captured, stderr inherited.
  explicit ChildProcess(std::vector<std::string> argv);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  /// SIGKILLs and reaps the child if it still runs.
  ~ChildProcess();

  /// Next stdout line, or nullopt at EOF or after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Reads lines until one starts with `prefix`; returns it, or nullopt on EOF/timeout.
  /// Every line read is kept in output().
  std::optional<std::string> wait_for_line(const std::string& prefix, std::chrono::milliseconds timeout);
  /// Waits for exit; the exit code, 128+signal when killed, or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  /// Sends a signal (no-op once reaped).
  void signal(int signal_number) noexcept;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Every line read so far, joined with '\n'.
  [[nodiscard]] const std::string& output() const noexcept { return output_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  std::string output_;
  bool reaped_ = false;
  int exit_code_ = -1;
};

/// Value of `key=value` in a line of space-separated pairs, or nullopt.
std::optional<long long> field(const std::string& line, const std::string& key);

}  // namespace shmsnap::test
