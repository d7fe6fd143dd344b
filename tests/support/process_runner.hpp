// Test support: start real processes (fork/exec), read their stdout line by line
// with bounded waits, signal them, and reap them. Every wait has a timeout so a
// hung child fails the test instead of stalling the suite. Used by the gtest
// suites and by the chaos driver (tests/chaos); a ChildProcess stays on one thread.
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

/// How a child starts, beyond its argv.
struct ChildOptions {
  /// Appends the child's stderr to this file; empty: the child inherits ours.
  std::string stderr_path;
};

class ChildProcess {
 public:
  /// Starts `argv` (argv[0] is a path); its stdout is captured, stderr inherited
  /// or redirected as `options` say.
  explicit ChildProcess(std::vector<std::string> argv, const ChildOptions& options = {});
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
  /// Lines still unread go to output(), not to read_line.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  /// Waits up to `timeout` (0: only checks) for the child to end, like wait_exit,
  /// but leaves what it printed for read_line. Meant for a child whose stdout is
  /// read meanwhile or that was just SIGKILLed: nothing here drains its pipe.
  std::optional<int> reap(std::chrono::milliseconds timeout);
  /// Sends a signal (no-op once reaped).
  void signal(int signal_number) noexcept;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Every line read so far, joined with '\n'.
  [[nodiscard]] const std::string& output() const noexcept { return output_; }
  /// The signal that ended the child, once reaped; nullopt while it runs or when it exited.
  [[nodiscard]] std::optional<int> exit_signal() const noexcept { return exit_signal_; }

  friend void wait_for_output(const std::vector<ChildProcess*>& children, std::chrono::milliseconds timeout);

 private:
  void record_exit(int status) noexcept;

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  std::string output_;
  bool reaped_ = false;
  int exit_code_ = -1;
  std::optional<int> exit_signal_;
};

/// Waits up to `timeout` until one of `children` has something for read_line (a
/// line, or the end of its output): one wait for a loop that serves many children.
void wait_for_output(const std::vector<ChildProcess*>& children, std::chrono::milliseconds timeout);

/// Value of `key=value` in a line of space-separated pairs, or nullopt.
std::optional<long long> field(const std::string& line, const std::string& key);

}  // namespace shmsnap::test
