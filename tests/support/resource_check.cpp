#include "support/resource_check.hpp"

#include <mqueue.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <filesystem>

namespace shmsnap::test {
namespace {
constexpr long mqueue_magic = 0x19800202;

bool is_mqueue_mount() {
  struct statfs status {};
  return statfs("/dev/mqueue", &status) == 0 && status.f_type == mqueue_magic;
}

std::vector<std::string> list(const char* directory, const std::string& prefix) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix + ":", 0) == 0) {
      names.push_back(std::string(directory) + "/" + name);
    }
  }
  return names;
}
}  // namespace

bool ensure_mqueue_mounted() {
  if (is_mqueue_mount()) {
    return true;
  }
  mkdir("/dev/mqueue", 01777);
  return mount("none", "/dev/mqueue", "mqueue", 0, nullptr) == 0 && is_mqueue_mount();
}

std::vector<std::string> leftovers(const std::string& prefix) {
  std::vector<std::string> found = list("/dev/shm", prefix);
  if (ensure_mqueue_mounted()) {
    for (auto& name : list("/dev/mqueue", prefix)) {
      found.push_back(std::move(name));
    }
  }
  return found;
}

std::vector<std::string> remove_leftovers(const std::string& prefix) {
  std::vector<std::string> removed = leftovers(prefix);
  for (const std::string& path : removed) {
    const std::string name = "/" + path.substr(path.rfind('/') + 1);
    if (path.rfind("/dev/shm/", 0) == 0) {
      shm_unlink(name.c_str());
    } else {
      mq_unlink(name.c_str());
    }
  }
  return removed;
}

}  // namespace shmsnap::test
