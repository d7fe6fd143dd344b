// fork/exec, reaping and affinity (see process.hpp).
#include "bench/process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "bench/cleanup.hpp"
#include "bench/clock.hpp"

namespace shmsnap::bench {

std::string self_executable() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

pid_t spawn_process(const std::vector<std::string>& argv, std::span<const int> inherit, int cpu) {
  // Everything the child needs is prepared before fork: between fork and exec only
  // async-signal-safe calls are allowed.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (cpu >= 0)
    CPU_SET(static_cast<std::size_t>(cpu), &mask);

  const pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    for (int fd : inherit) {
      const int flags = fcntl(fd, F_GETFD);
      if (flags >= 0)
        fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
    if (cpu >= 0)
      sched_setaffinity(0, sizeof mask, &mask);
    execv(args[0], args.data());
    _exit(127);
  }
  cleanup::track_child(pid);
  return pid;
}

int reap_process(pid_t pid, std::int64_t deadline_ns) noexcept {
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR))
      break;
    if (monotonic_ns() > deadline_ns) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      cleanup::untrack_child(pid);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  cleanup::untrack_child(pid);
  return status;
}

int usable_cpus() noexcept {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) != 0)
    return 1;
  return CPU_COUNT(&mask);
}

ScopedPin::ScopedPin(int cpu) noexcept {
  if (cpu < 0)
    return;
  saved_.resize(sizeof(cpu_set_t));
  auto* saved = reinterpret_cast<cpu_set_t*>(saved_.data());
  if (sched_getaffinity(0, sizeof(cpu_set_t), saved) != 0)
    return;
  cpu_set_t mask;
  CPU_ZERO(&mask);
  CPU_SET(static_cast<std::size_t>(cpu), &mask);
  pinned_ = sched_setaffinity(0, sizeof mask, &mask) == 0;
}

ScopedPin::~ScopedPin() {
  if (pinned_)
    sched_setaffinity(0, sizeof(cpu_set_t), reinterpret_cast<const cpu_set_t*>(saved_.data()));
}

}  // namespace shmsnap::bench
