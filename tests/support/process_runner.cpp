#include "support/process_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

namespace shmsnap::test {

std::string bin_dir() {
  if (const char* from_env = std::getenv("SHMSNAP_BIN_DIR"); from_env != nullptr && *from_env != '\0') {
    return from_env;
  }
  char path[4096];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
  std::string self(path, length > 0 ? static_cast<std::size_t>(length) : 0);
  return self.substr(0, self.rfind('/'));
}

std::string unique_prefix() {
  static std::atomic<int> counter{0};
  return "t" + std::to_string(getpid()) + "_" + std::to_string(counter.fetch_add(1));
}

ChildProcess::ChildProcess(std::vector<std::string> argv, const ChildOptions& options) {
  // Built before fork: the child of a threaded parent may only make async-signal-safe calls.
  std::vector<char*> raw;
  for (auto& argument : argv) {
    raw.push_back(argument.data());
  }
  raw.push_back(nullptr);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  pid_ = fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    // A test killed by its timeout must not leave children holding queues open.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(pipe_fds[1], STDOUT_FILENO);
    if (!options.stderr_path.empty()) {
      const int log_fd = open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (log_fd >= 0) {
        dup2(log_fd, STDERR_FILENO);
      }
    }
    execv(raw[0], raw.data());
    std::fprintf(stderr, "exec %s failed: %s\n", raw[0], std::strerror(errno));
    _exit(127);
  }
  close(pipe_fds[1]);
  stdout_fd_ = pipe_fds[0];
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stdout_fd_(std::exchange(other.stdout_fd_, -1)),
      buffer_(std::move(other.buffer_)),
      output_(std::move(other.output_)),
      reaped_(std::exchange(other.reaped_, true)),
      exit_code_(other.exit_code_),
      exit_signal_(other.exit_signal_) {}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGCONT);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) {
    close(stdout_fd_);
  }
}

std::optional<std::string> ChildProcess::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      output_ += line + "\n";
      return line;
    }
    if (stdout_fd_ < 0) {
      return std::nullopt;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd entry{stdout_fd_, POLLIN, 0};
    if (poll(&entry, 1, static_cast<int>(std::max<long long>(0, left.count()))) <= 0) {
      if (left.count() <= 0) {
        return std::nullopt;
      }
      continue;
    }
    char chunk[4096];
    const ssize_t got = read(stdout_fd_, chunk, sizeof chunk);
    if (got <= 0) {
      close(stdout_fd_);
      stdout_fd_ = -1;
      if (!buffer_.empty()) {
        buffer_ += '\n';
        continue;
      }
      return std::nullopt;
    }
    buffer_.append(chunk, static_cast<std::size_t>(got));
  }
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string& prefix, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    auto line = read_line(left);
    if (!line) {
      return std::nullopt;
    }
    if (line->rfind(prefix, 0) == 0) {
      return line;
    }
  }
}

void ChildProcess::record_exit(int status) noexcept {
  reaped_ = true;
  if (WIFSIGNALED(status)) {
    exit_signal_ = WTERMSIG(status);
    exit_code_ = 128 + WTERMSIG(status);
  } else {
    exit_code_ = WEXITSTATUS(status);
  }
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (reaped_) {
    return exit_code_;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (reap(std::chrono::milliseconds(0))) {
      // Keep what it printed before exiting.
      while (read_line(std::chrono::milliseconds(0))) {
      }
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    // Drain stdout meanwhile so a chatty child never blocks on a full pipe.
    read_line(std::chrono::milliseconds(10));
  }
}

std::optional<int> ChildProcess::reap(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      record_exit(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    // Polled: waitpid has no timeout, and an exit is not a readable descriptor here.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return exit_code_;
}

void ChildProcess::signal(int signal_number) noexcept {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, signal_number);
  }
}

void wait_for_output(const std::vector<ChildProcess*>& children, std::chrono::milliseconds timeout) {
  std::vector<pollfd> entries;
  for (const ChildProcess* child : children) {
    if (child->buffer_.find('\n') != std::string::npos) {
      return;  // read_line has a whole line without reading
    }
    if (child->stdout_fd_ >= 0) {
      entries.push_back(pollfd{child->stdout_fd_, POLLIN, 0});
    }
  }
  poll(entries.data(), entries.size(), static_cast<int>(timeout.count()));
}

std::optional<long long> field(const std::string& line, const std::string& key) {
  const std::string needle = key + "=";
  std::size_t at = 0;
  while ((at = line.find(needle, at)) != std::string::npos) {
    if (at == 0 || line[at - 1] == ' ') {
      return std::strtoll(line.c_str() + at + needle.size(), nullptr, 10);
    }
    at += needle.size();
  }
  return std::nullopt;
}

}  // namespace shmsnap::test
