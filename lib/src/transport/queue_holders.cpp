// Which processes hold which message queues open, read from /proc/<pid>/fd.
#include "shmsnap/detail/queue_holders.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "region/shared_memory.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/region.hpp"
#include "system/os_error.hpp"
#include "system/process.hpp"

namespace shmsnap::detail {
std::vector<pid_t> QueueHolders::of(const std::string& name) const {
  const auto found = holders.find(name);
  return found == holders.end() ? std::vector<pid_t>{} : found->second;
}

bool QueueHolders::conclusive_for(uid_t owner) const noexcept {
  return !unreadable_uids.contains(owner);
}

QueueHolders scan_queue_holders() {
  QueueHolders result;
  DIR* processes = ::opendir("/proc");
  if (processes == nullptr) {
    throw os_error(errno, "list", "/proc", "a mounted /proc is needed to see who holds a queue open");
  }
  while (const dirent* process = ::readdir(processes)) {
    char* end = nullptr;
    const long pid = std::strtol(process->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') {
      continue;
    }
    const std::string base = std::string("/proc/") + process->d_name;
    const std::string fd_directory = base + "/fd";
    DIR* descriptors = ::opendir(fd_directory.c_str());
    if (descriptors == nullptr) {
      struct stat owner {};
      if (errno != ENOENT && ::stat(base.c_str(), &owner) == 0) {
        result.unreadable_uids.insert(owner.st_uid);
      }
      continue;
    }
    while (const dirent* descriptor = ::readdir(descriptors)) {
      if (descriptor->d_name[0] == '.') {
        continue;
      }
      const std::string link_path = fd_directory + "/" + descriptor->d_name;
      char target[512];
      const ssize_t length = ::readlink(link_path.c_str(), target, sizeof target - 1);
      if (length < 2 || target[0] != '/') {
        continue;
      }
      const std::string_view link(target, static_cast<std::size_t>(length));
      if (link.find('/', 1) != std::string_view::npos) {
        continue;  // a path: regular files and /dev/shm objects
      }
      struct statfs filesystem {};
      if (::statfs(link_path.c_str(), &filesystem) == 0 && filesystem.f_type == mqueue_magic) {
        auto& pids = result.holders[std::string(link)];
        if (std::find(pids.begin(), pids.end(), static_cast<pid_t>(pid)) == pids.end()) {
          pids.push_back(static_cast<pid_t>(pid));
        }
      }
    }
    ::closedir(descriptors);
  }
  ::closedir(processes);
  return result;
}

}  // namespace shmsnap::detail
