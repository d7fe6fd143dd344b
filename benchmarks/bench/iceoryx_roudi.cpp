// Starting and stopping iox-roudi for the iceoryx rows (see iceoryx_roudi.hpp).
#include "bench/iceoryx_roudi.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bench/cleanup.hpp"
#include "bench/clock.hpp"

extern char** environ;

namespace shmsnap::bench::iceoryx {
namespace {

constexpr std::int64_t ns_per_ms = 1'000'000;
constexpr std::int64_t start_timeout_ns = 15'000 * ns_per_ms;
constexpr std::int64_t stop_timeout_ns = 10'000 * ns_per_ms;
// Room for iceoryx's chunk header in front of the payload (40 bytes in 2.0).
constexpr std::size_t chunk_header_room = 64;
constexpr std::string_view ready_line = "RouDi is ready for clients";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string tail(const std::string& text, std::size_t bytes) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

// RouDi names its payload segment after the writer group (the user's primary group).
std::string payload_segment_name() {
  const group* entry = getgrgid(getegid());
  return entry != nullptr ? std::string("/") + entry->gr_name : std::string();
}

// Owns our daemon. A function-local static constructed before this process calls
// PoshRuntime::initRuntime(), so it is destroyed after the runtime (reverse order of
// construction): the runtime has unregistered by then, and RouDi's shutdown, which
// SIGTERMs every registered process, finds nobody to terminate.
class Supervisor {
 public:
  Supervisor() = default;
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;
  ~Supervisor() { stop(); }

  void start(const MempoolPlan& plan) {
    if (pid_ > 0)
      return;
    const auto binary = find_roudi_binary();
    if (!binary)
      throw std::runtime_error("iox-roudi not found on PATH (install the Debian package 'iceoryx')");
    if (const auto other = running_roudi()) {
      throw std::runtime_error("an iox-roudi not started by shmsnap-bench is running (pid " + std::to_string(*other) +
                               "); iceoryx 2.0 allows one RouDi per machine: stop it to run the iceoryx rows");
    }
    char pattern[] = "/tmp/shmsnap-bench-roudi.XXXXXX";
    if (mkdtemp(pattern) == nullptr)
      throw std::runtime_error(std::string("mkdtemp for the RouDi config failed: ") + std::strerror(errno));
    directory_ = pattern;
    const auto config_path = directory_ / "roudi_config.toml";
    log_path_ = directory_ / "roudi.log";
    for (const auto& path : {directory_, config_path, log_path_})
      cleanup::track(cleanup::NameKind::leftover, path.string());
    std::ofstream(config_path) << roudi_config(plan);

    // Monitoring off: on a loaded 2-core machine a spinning subscriber can starve its
    // own keep-alive thread, and RouDi would then tear down a live subscriber's ports.
    std::vector<std::string> argv{*binary, "-c", config_path.string(), "-l", "warning", "-m", "off"};
    std::vector<char*> args;
    for (auto& arg : argv)
      args.push_back(arg.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = -1;
    const int error = posix_spawn(&pid, binary->c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0)
      throw std::runtime_error("posix_spawn(" + *binary + "): " + std::strerror(error));
    pid_ = pid;
    cleanup::track_service(pid_);
    std::cerr << "shmsnap-bench: started iox-roudi (pid " << pid_ << ", config " << config_path.string() << ")\n";

    const std::int64_t deadline = monotonic_ns() + start_timeout_ns;
    for (;;) {
      const std::string log = read_file(log_path_);
      if (log.find(ready_line) != std::string::npos)
        return;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        cleanup::untrack_service(pid_);
        pid_ = -1;
        throw std::runtime_error("iox-roudi exited during start-up; its log: " + tail(log, 600));
      }
      if (monotonic_ns() > deadline) {
        stop();
        throw std::runtime_error("iox-roudi was not ready within 15 s; its log: " + tail(log, 600));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  [[nodiscard]] bool running() const noexcept { return pid_ > 0; }
  void track_runtime(const std::string& name) {
    runtime_names_.push_back(name);
    cleanup::track(cleanup::NameKind::leftover, "/tmp/" + name);
    cleanup::track(cleanup::NameKind::leftover, "/tmp/" + name + ".lock");
  }

 private:
  void stop() noexcept {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      bool killed = false;
      const std::int64_t deadline = monotonic_ns() + stop_timeout_ns;
      int status = 0;
      while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (monotonic_ns() > deadline && !killed) {
          kill(pid_, SIGKILL);
          killed = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      cleanup::untrack_service(pid_);
      pid_ = -1;
      if (killed) {
        // It could not clean up after itself: remove what it leaves behind.
        std::cerr << "shmsnap-bench: iox-roudi did not stop within 10 s; killed it and removed its files\n";
        shm_unlink("/iceoryx_mgmt");
        if (const auto segment = payload_segment_name(); !segment.empty())
          shm_unlink(segment.c_str());
        for (const char* path : {"/tmp/roudi", "/tmp/roudi.lock", "/tmp/iox-unique-roudi.lock"})
          unlink(path);
      }
    }
    // Sockets and lock files of subscribers that were killed before they unregistered.
    for (const auto& name : runtime_names_) {
      for (const std::string& path : {"/tmp/" + name, "/tmp/" + name + ".lock"}) {
        unlink(path.c_str());
        cleanup::untrack(cleanup::NameKind::leftover, path);
      }
    }
    runtime_names_.clear();
    if (!directory_.empty()) {
      for (const auto& path : {directory_ / "roudi_config.toml", log_path_, directory_})
        cleanup::untrack(cleanup::NameKind::leftover, path.string());
      std::error_code ignored;
      std::filesystem::remove_all(directory_, ignored);
      directory_.clear();
    }
  }

  pid_t pid_ = -1;
  std::filesystem::path directory_;
  std::filesystem::path log_path_;
  std::vector<std::string> runtime_names_;
};

Supervisor& supervisor() {
  static Supervisor instance;
  return instance;
}

}  // namespace

std::optional<std::string> find_roudi_binary() {
  const char* path = std::getenv("PATH");
  std::stringstream directories(path != nullptr ? path : "/usr/bin:/bin");
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    const std::string candidate = (directory.empty() ? "." : directory) + "/iox-roudi";
    if (access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return std::nullopt;
}

std::optional<pid_t> running_roudi() {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    std::string comm = read_file(entry.path() / "comm");
    if (!comm.empty() && comm.back() == '\n')
      comm.pop_back();
    if (comm == "iox-roudi")
      return static_cast<pid_t>(std::stol(name));
  }
  return std::nullopt;
}

std::string roudi_config(const MempoolPlan& plan) {
  std::vector<std::size_t> sizes(plan.payloads.begin(), plan.payloads.end());
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  std::ostringstream text;
  text << "# Written by shmsnap-bench for one run; removed when it ends.\n"
          "[general]\nversion = 1\n\n[[segment]]\n";
  for (std::size_t size : sizes) {
    // Every subscriber queue full, one chunk each held by a subscriber while it reads,
    // one loaned by the publisher, and slack for chunks in flight; for the row
    // (subscriber count) that needs the most.
    std::size_t count = 0;
    for (int subscribers = 1; subscribers <= plan.max_subscribers; ++subscribers) {
      count = std::max(count, static_cast<std::size_t>(subscribers) *
                                  static_cast<std::size_t>(queue_capacity_for(size, subscribers) + 1));
    }
    text << "\n[[segment.mempool]]\nsize = " << (size + chunk_header_room + 7) / 8 * 8 << "\ncount = " << count + 4
         << '\n';
  }
  return text.str();
}

int queue_capacity_for(std::size_t payload, int subscribers) noexcept {
  constexpr std::size_t budget = std::size_t{256} << 20U;
  const std::size_t fits =
      budget / (std::max<std::size_t>(payload, 1) * static_cast<std::size_t>(std::max(subscribers, 1)));
  return static_cast<int>(std::clamp<std::size_t>(fits, 4, 256));
}

void ensure_roudi(const MempoolPlan& plan) {
  supervisor().start(plan);
}

bool roudi_started_here() noexcept {
  return supervisor().running();
}

void track_runtime_name(const std::string& name) {
  supervisor().track_runtime(name);
}

}  // namespace shmsnap::bench::iceoryx
