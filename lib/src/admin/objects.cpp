// Listing, inspecting and removing the named objects of /dev/shm and /dev/mqueue,
// the topics of a prefix, and the socket-mode topics of a directory. Any thread.
#include "shmsnap/admin.hpp"

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

#include "admin/object_names.hpp"
#include "region/shared_memory.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/region.hpp"
#include "system/os_error.hpp"
#include "system/process.hpp"

namespace shmsnap::admin {
namespace {

constexpr std::string_view shm_directory = "/dev/shm/";
constexpr std::string_view mqueue_directory = "/dev/mqueue/";

ObjectInfo info_from_stat(std::string name, std::string path, const struct stat& status) {
  ObjectInfo info;
  info.name = std::move(name);
  info.path = std::move(path);
  info.size = static_cast<std::uint64_t>(status.st_size);
  info.mode = status.st_mode & 07777;
  info.uid = status.st_uid;
  info.gid = status.st_gid;
  info.inode = status.st_ino;
  info.modified_realtime_ns = std::int64_t{status.st_mtim.tv_sec} * 1'000'000'000 + status.st_mtim.tv_nsec;
  return info;
}

// An mqueue file reads "QSIZE:n NOTIFY:.. SIGNO:.. NOTIFY_PID:.."; QSIZE is the
// bytes queued, the only occupancy figure readable without opening the queue.
std::uint64_t queued_bytes(const std::string& path) noexcept {
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0) {
    return 0;
  }
  char text[256] = {};
  const ssize_t length = ::read(descriptor, text, sizeof text - 1);
  ::close(descriptor);
  if (length <= 0) {
    return 0;
  }
  const char* field = std::strstr(text, "QSIZE:");
  return field == nullptr ? 0 : std::strtoull(field + 6, nullptr, 10);
}

std::vector<ObjectInfo> list_directory(std::string_view directory, std::string_view starts_with, bool is_mqueue) {
  const std::string path(directory);
  DIR* listing = ::opendir(path.c_str());
  if (listing == nullptr) {
    throw detail::os_error(errno, "list", path);
  }
  std::vector<ObjectInfo> found;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name(entry->d_name);
    if (name == "." || name == ".." || name.substr(0, starts_with.size()) != starts_with) {
      continue;
    }
    struct stat status {};
    const std::string full = path + std::string(name);
    if (::lstat(full.c_str(), &status) != 0 || !S_ISREG(status.st_mode)) {
      continue;  // removed meanwhile, or not a shm object (a directory, a lock file's link)
    }
    ObjectInfo info = info_from_stat("/" + std::string(name), full, status);
    if (is_mqueue) {
      info.size = queued_bytes(full);
    }
    found.push_back(std::move(info));
  }
  ::closedir(listing);
  std::sort(found.begin(), found.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
  return found;
}

void require_mqueue_mount() {
  if (!mqueue_mounted()) {
    throw Error(Errc::not_found,
                "the mqueue filesystem is not mounted at /dev/mqueue, so queues cannot be listed; "
                "mount it (as root): " +
                    std::string(mqueue_mount_hint));
  }
}

}  // namespace

void validate_object_name(std::string_view what, std::string_view name) {
  if (name.size() < 2 || name.front() != '/' || name.find('/', 1) != std::string_view::npos || name.size() > 255 ||
      name == "/." || name == "/..") {
    throw Error(Errc::invalid_argument, "invalid " + std::string(what) + " name '" + std::string(name) +
                                            "': it must start with '/', contain no other '/', and be at most "
                                            "255 characters (e.g. /shmsnap:quotes)");
  }
}

std::vector<ObjectInfo> list_shm(std::string_view starts_with) {
  return list_directory(shm_directory, starts_with, false);
}

ObjectInfo stat_shm(std::string_view name) {
  validate_object_name("shared memory", name);
  const std::string path = "/dev/shm" + std::string(name);
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) {
    throw detail::os_error(errno, "stat shared memory object", std::string(name),
                           errno == ENOENT ? "it does not exist; 'shmsnap shm ls' lists what does" : "");
  }
  return info_from_stat(std::string(name), path, status);
}

bool remove_shm(std::string_view name) {
  validate_object_name("shared memory", name);
  const std::string owned(name);
  if (::shm_unlink(owned.c_str()) == 0) {
    return true;
  }
  if (errno == ENOENT) {
    return false;
  }
  throw detail::os_error(errno, "remove shared memory object", owned);
}

bool mqueue_mounted() noexcept {
  struct statfs status {};
  return ::statfs("/dev/mqueue", &status) == 0 && status.f_type == mqueue_magic;
}

std::vector<ObjectInfo> list_mqueues(std::string_view starts_with) {
  require_mqueue_mount();
  return list_directory(mqueue_directory, starts_with, true);
}

ObjectInfo stat_mqueue(std::string_view name) {
  validate_object_name("message queue", name);
  require_mqueue_mount();
  const std::string path = "/dev/mqueue" + std::string(name);
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) {
    throw detail::os_error(errno, "stat message queue", std::string(name),
                           errno == ENOENT ? "it does not exist; 'shmsnap mq ls' lists what does" : "");
  }
  ObjectInfo info = info_from_stat(std::string(name), path, status);
  info.size = queued_bytes(path);
  return info;
}

std::vector<std::string> find_topics(std::string_view prefix) {
  const std::string resolved = resolve_prefix(prefix);
  std::vector<std::string> topics;
  const std::string start = namespace_start(resolved);
  for (const ObjectInfo& object : list_shm(start)) {
    const std::string topic = object.name.substr(1 + start.size());
    if (is_valid_name(topic, max_topic_length)) {
      topics.push_back(topic);
    }
  }
  return topics;
}

std::vector<std::string> find_socket_topics(const std::string& directory) {
  constexpr std::string_view suffix = ".sock";  // socket_path(): DIR/<topic>.sock
  DIR* listing = ::opendir(directory.c_str());
  if (listing == nullptr) {
    throw detail::os_error(errno, "list socket directory", directory,
                           errno == ENOENT ? "give the directory the publishers' --socket-dir names" : "");
  }
  std::vector<std::string> topics;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name(entry->d_name);
    if (!name.ends_with(suffix)) {
      continue;
    }
    const std::string_view topic = name.substr(0, name.size() - suffix.size());
    struct stat status {};
    const std::string path = directory + "/" + std::string(name);
    // Only sockets: a file, link or FIFO of that name is no publisher's (it blocks
    // the topic, as SocketListener::create says when a publisher starts).
    if (is_valid_name(topic, max_topic_length) && ::lstat(path.c_str(), &status) == 0 && S_ISSOCK(status.st_mode)) {
      topics.emplace_back(topic);
    }
  }
  ::closedir(listing);
  std::sort(topics.begin(), topics.end());
  return topics;
}

}  // namespace shmsnap::admin
