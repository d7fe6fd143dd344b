// Probing a region's liveness and removing what provably dead publishers and
// subscribers left behind (and, when forced, what was planted). Any thread.
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

// Unlinks a region only while we hold a shared flock on the very inode we judged
// dead: a live publisher holds the exclusive lock, so it can never be the victim,
// and a successor cannot replace the name while we hold the old inode's lock.
bool remove_dead_region(const std::string& shm_name, std::string& why_not) {
  const std::string path = "/dev/shm" + shm_name;
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (descriptor < 0) {
    why_not = errno == ENOENT ? "already gone" : std::string("cannot open: ") + std::strerror(errno);
    return errno == ENOENT;
  }
  bool removed = false;
  if (::flock(descriptor, LOCK_SH | LOCK_NB) != 0) {
    why_not = "a publisher took the lock meanwhile: it is live now";
  } else {
    struct stat held {};
    struct stat named {};
    if (::fstat(descriptor, &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_ino == named.st_ino) {
      removed = ::shm_unlink(shm_name.c_str()) == 0 || errno == ENOENT;
      if (!removed) {
        why_not = std::string("shm_unlink failed: ") + std::strerror(errno);
      }
    } else {
      why_not = "replaced by a new region meanwhile";
    }
  }
  ::close(descriptor);  // releases our lock
  return removed;
}

std::string describe_region(const RegionProbe& probe) {
  if (!probe.inspectable) {
    return "cannot tell whether its publisher lives (" + probe.problem + ")";
  }
  if (probe.locked) {
    return "live: publisher pid " + std::to_string(probe.publisher_pid) + " holds its lock";
  }
  if (!probe.valid) {
    if (probe.age_seconds < garbage_age_seconds) {
      return "not initialised yet and only " + std::to_string(static_cast<int>(probe.age_seconds)) +
             " s old: a publisher may be starting (" + probe.problem + ")";
    }
    return "invalid and unlocked for " + std::to_string(static_cast<long>(probe.age_seconds)) + " s (" + probe.problem +
           ")";
  }
  if (probe.publisher_alive) {
    return "unlocked, but pid " + std::to_string(probe.publisher_pid) + " still runs: left alone to be safe";
  }
  return "publisher pid " + std::to_string(probe.publisher_pid) + " (epoch " + std::to_string(probe.epoch) +
         ") is dead and nobody holds the lock";
}

}  // namespace

bool RegionProbe::dead() const noexcept {
  return exists && inspectable && !locked && !(valid && publisher_alive) &&
         (valid || age_seconds >= garbage_age_seconds);
}

RegionProbe probe_region(std::string_view shm_name) {
  validate_object_name("shared memory", shm_name);
  RegionProbe probe;
  probe.name = std::string(shm_name);
  const std::string path = "/dev/shm" + probe.name;
  // O_NONBLOCK: a FIFO planted under the name cannot block the probe.
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (descriptor < 0) {
    if (errno != ENOENT) {
      probe.exists = true;
      probe.inspectable = false;
      probe.problem = std::string("cannot open it: ") + std::strerror(errno);
    }
    return probe;
  }
  probe.exists = true;
  struct stat status {};
  ::fstat(descriptor, &status);
  if (!S_ISREG(status.st_mode)) {
    ::close(descriptor);
    probe.inspectable = false;
    probe.problem = detail::describe_file_type(status.st_mode) + ", not a shmsnap region";
    return probe;
  }
  const std::int64_t changed_ns = std::int64_t{status.st_ctim.tv_sec} * 1'000'000'000 + status.st_ctim.tv_nsec;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  probe.age_seconds = static_cast<double>(std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec - changed_ns) / 1e9;

  if (::flock(descriptor, LOCK_SH | LOCK_NB) != 0) {
    probe.locked = errno == EWOULDBLOCK;
    if (!probe.locked) {
      probe.inspectable = false;
      probe.problem = std::string("flock failed: ") + std::strerror(errno);
    }
  } else {
    ::flock(descriptor, LOCK_UN);
  }

  const auto size = static_cast<std::uint64_t>(status.st_size);
  if (size == 0) {
    probe.problem = RegionReader::validate(nullptr, 0).problem;
  } else {
    void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, descriptor, 0);
    if (mapped == MAP_FAILED) {
      probe.problem = std::string("cannot map it: ") + std::strerror(errno);
    } else {
      const auto* bytes = static_cast<const std::byte*>(mapped);
      RegionValidation checked = RegionReader::validate(bytes, size);
      probe.valid = checked.valid();
      probe.problem = std::move(checked.problem);
      if (probe.valid) {
        // Plain copies: these header fields are written once, before the magic.
        std::int32_t pid = 0;
        std::uint64_t start_time = 0;
        std::memcpy(&pid, bytes + offsetof(detail::RegionHeader, publisher_pid), sizeof pid);
        std::memcpy(&start_time, bytes + offsetof(detail::RegionHeader, publisher_start_time), sizeof start_time);
        std::memcpy(&probe.epoch, bytes + offsetof(detail::RegionHeader, epoch), sizeof probe.epoch);
        probe.publisher_pid = pid;
        probe.publisher_alive = detail::process_alive(pid, start_time);
      }
      ::munmap(mapped, size);
    }
  }
  ::close(descriptor);
  return probe;
}

CleanReport clean(std::string_view prefix, bool dry_run, bool force) {
  const std::string resolved = resolve_prefix(prefix);
  const std::string start = namespace_start(resolved);
  CleanReport report;
  const auto record = [&](std::string path, std::string reason, bool remove, bool removed_ok,
                          const std::string& error) {
    if (!remove) {
      report.kept.push_back(CleanEntry{std::move(path), std::move(reason), false});
      return;
    }
    if (!removed_ok) {
      report.errors.push_back(path + ": " + error);
      report.kept.push_back(CleanEntry{std::move(path), std::move(reason) + "; not removed: " + error, false});
      return;
    }
    report.removed.push_back(CleanEntry{std::move(path), std::move(reason), true});
  };

  // Regions first: the control queues' fate follows theirs.
  std::map<std::string, bool> region_dead;          // topic -> dead (absent topics are not in the map)
  std::map<std::string, std::string> region_state;  // topic -> why it was judged so
  for (const std::string& topic : find_topics(resolved)) {
    const std::string shm_name = "/" + start + topic;
    const RegionProbe probe = probe_region(shm_name);
    if (!probe.exists) {
      continue;
    }
    const bool dead = probe.dead();
    region_dead[topic] = dead;
    std::string error;
    const bool removed = dead && (dry_run || remove_dead_region(shm_name, error));
    region_state[topic] = describe_region(probe);
    record("/dev/shm" + shm_name, region_state[topic], dead, removed, error);
    if (dead && !removed) {
      region_dead[topic] = false;  // it may have come back to life: keep its queues too
    }
  }

  // What list_shm skips: names under the prefix that no publisher could have made.
  if (DIR* listing = ::opendir("/dev/shm")) {
    while (const dirent* entry = ::readdir(listing)) {
      const std::string_view name(entry->d_name);
      struct stat status {};
      const std::string path = "/dev/shm/" + std::string(name);
      if (!name.starts_with(start) || ::lstat(path.c_str(), &status) != 0 || S_ISREG(status.st_mode)) {
        continue;
      }
      const std::string what = detail::describe_file_type(status.st_mode) + ", not a shmsnap region";
      if (!force) {
        record(path, what + ": it blocks its topic; 'shmsnap clean --force' removes it", false, false, {});
        continue;
      }
      const bool removed = dry_run || (S_ISDIR(status.st_mode) ? ::rmdir(path.c_str()) : ::unlink(path.c_str())) == 0;
      record(path, what, true, removed, removed ? std::string() : std::strerror(errno));
    }
    ::closedir(listing);
  }

  if (!mqueue_mounted()) {
    report.errors.push_back("queues not examined: the mqueue filesystem is not mounted at /dev/mqueue (" +
                            std::string(mqueue_mount_hint) + ")");
    return report;
  }
  const QueueHolders holders = scan_queue_holders();
  for (const ObjectInfo& queue : list_mqueues(start)) {
    const std::string rest = queue.name.substr(1 + start.size());
    const std::string sub_marker = std::string{name_separator} + "sub" + name_separator;
    const std::string control_marker = std::string{name_separator} + "ctl";
    const std::size_t sub = rest.find(sub_marker);
    bool remove = false;
    std::string reason;
    if (sub != std::string::npos && sub > 0) {
      // A subscriber keeps its notify queue open for its whole life, also while it
      // waits for a new publisher after the region is gone.
      const std::vector<pid_t> pids = holders.of(queue.name);
      if (!pids.empty()) {
        reason = "live: held open by pid";
        for (std::size_t index = 0; index < pids.size(); ++index) {
          reason += (index == 0 ? " " : ", ") + std::to_string(pids[index]);
        }
      } else if (!holders.conclusive_for(queue.uid)) {
        reason = "cannot tell: the descriptors of some processes of uid " + std::to_string(queue.uid) +
                 " are unreadable (run as that user or root)";
      } else {
        remove = true;
        reason = "notify queue that no process holds open (its subscriber is dead)";
      }
    } else if (rest.size() > control_marker.size() && rest.ends_with(control_marker)) {
      const std::string topic = rest.substr(0, rest.size() - control_marker.size());
      const auto found = region_dead.find(topic);
      if (found == region_dead.end()) {
        remove = true;
        reason = "control queue of topic '" + topic + "', whose region is gone";
      } else if (found->second) {
        remove = true;
        reason = "control queue of topic '" + topic + "', whose publisher is dead";
      } else {
        reason = "control queue of topic '" + topic + "', kept with its region (" + region_state[topic] + ")";
      }
    } else {
      reason = "not a shmsnap queue name (neither <topic>:ctl nor <topic>:sub:<id>): left alone";
    }
    const bool removed = remove && (dry_run || ::mq_unlink(queue.name.c_str()) == 0 || errno == ENOENT);
    record(queue.path, reason, remove, removed, removed ? std::string() : std::strerror(errno));
  }
  return report;
}

}  // namespace shmsnap::admin
