#include "system/process.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace shmsnap::detail {

std::uint64_t process_start_time(pid_t pid) noexcept {
  if (pid <= 0) {
    return 0;
  }
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  std::FILE* file = std::fopen(path, "re");
  if (file == nullptr) {
    return 0;
  }
  char buffer[1024];
  const std::size_t length = std::fread(buffer, 1, sizeof buffer - 1, file);
  std::fclose(file);
  buffer[length] = '\0';
  // The command name (field 2) may hold spaces and parentheses: fields resume
  // after the last ')'. Field 3 (state) is the first token after it; field 22 is
  // the 20th token.
  const char* after_name = std::strrchr(buffer, ')');
  if (after_name == nullptr) {
    return 0;
  }
  std::istringstream fields(after_name + 1);
  std::string token;
  for (int field = 3; field <= 22 && fields >> token; ++field) {
    if (field == 22) {
      return std::strtoull(token.c_str(), nullptr, 10);
    }
  }
  return 0;
}

bool process_alive(pid_t pid, std::uint64_t start_time) noexcept {
  if (pid <= 0) {
    return false;
  }
  if (kill(pid, 0) != 0 && errno != EPERM) {
    return false;
  }
  if (start_time == 0) {
    return true;
  }
  const std::uint64_t now_start = process_start_time(pid);
  // An unreadable /proc cannot prove reuse: trust kill().
  return now_start == 0 || now_start == start_time;
}

uid_t process_owner(pid_t pid) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d", static_cast<int>(pid));
  struct stat status {};
  return stat(path, &status) == 0 ? status.st_uid : static_cast<uid_t>(-1);
}

int open_pidfd(pid_t pid) noexcept {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

bool pidfd_exited(int pidfd) noexcept {
  pollfd entry{pidfd, POLLIN, 0};
  return poll(&entry, 1, 0) == 1 && (entry.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

std::string pid_text(pid_t pid) {
  return pid > 0 ? "pid " + std::to_string(pid) : std::string("pid unknown here (another PID namespace)");
}

}  // namespace shmsnap::detail
