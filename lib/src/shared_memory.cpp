#include "shared_memory.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <ctime>

#include <boost/interprocess/exceptions.hpp>

#include "os_error.hpp"

namespace shmsnap::detail {
namespace bip = boost::interprocess;

namespace {
int errno_of(const bip::interprocess_exception& failure) noexcept {
  const int native = failure.get_native_error();
  return native != 0 ? native : EIO;
}

std::string gib(std::int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}
}  // namespace

SharedMemory SharedMemory::create(const std::string& name, mode_t mode) {
  SharedMemory created;
  try {
    bip::permissions permissions(static_cast<unsigned>(mode));
    created.object_ = bip::shared_memory_object(bip::create_only, name.c_str(), bip::read_write, permissions);
  } catch (const bip::interprocess_exception& failure) {
    throw os_error(errno_of(failure), "create shared memory", "/dev/shm" + name);
  }
  created.name_ = name;
  created.access_ = Access::read_write;
  return created;
}

SharedMemory SharedMemory::open(const std::string& name, Access access) {
  SharedMemory opened;
  try {
    opened.object_ = bip::shared_memory_object(bip::open_only, name.c_str(),
                                               access == Access::read_write ? bip::read_write : bip::read_only);
  } catch (const bip::interprocess_exception& failure) {
    const int err = errno_of(failure);
    throw os_error(err, "open shared memory", "/dev/shm" + name,
                   err == ENOENT ? "no publisher has created this topic (check the topic name and prefix)" : "");
  }
  opened.name_ = name;
  opened.access_ = access;
  return opened;
}

bool SharedMemory::remove(const std::string& name) noexcept {
  return bip::shared_memory_object::remove(name.c_str());
}

void SharedMemory::reserve(std::uint64_t size) {
  // Refuse up front what cannot fit: tmpfs would otherwise allocate page by page
  // until it runs dry, squeezing every other user of /dev/shm on the way.
  if (const std::int64_t free_bytes = shm_free_bytes();
      free_bytes >= 0 && size > static_cast<std::uint64_t>(free_bytes)) {
    throw Error(Errc::out_of_space,
                "cannot reserve " + gib(static_cast<std::int64_t>(size)) + " for /dev/shm" + name_ + ": /dev/shm has " +
                    gib(free_bytes) +
                    " free; free space there, use fewer or smaller slots, or give the container "
                    "more (docker run --shm-size=...)",
                ENOSPC);
  }
  try {
    object_.truncate(static_cast<bip::offset_t>(size));
  } catch (const bip::interprocess_exception& failure) {
    throw os_error(errno_of(failure), "size shared memory", "/dev/shm" + name_);
  }
  const int err = posix_fallocate(native_handle(), 0, static_cast<off_t>(size));
  if (err != 0) {
    const std::int64_t free_bytes = shm_free_bytes();
    throw os_error(err, "reserve " + gib(static_cast<std::int64_t>(size)) + " for", "/dev/shm" + name_,
                   "/dev/shm has " + (free_bytes < 0 ? std::string("unknown") : gib(free_bytes)) +
                       " free; free space there, use fewer or smaller slots, or give the container "
                       "more (docker run --shm-size=...)");
  }
}

void SharedMemory::map() {
  try {
    mapping_ = bip::mapped_region(object_, access_ == Access::read_write ? bip::read_write : bip::read_only);
  } catch (const bip::interprocess_exception& failure) {
    throw os_error(errno_of(failure), "map shared memory", "/dev/shm" + name_);
  }
}

void SharedMemory::unmap() noexcept {
  mapping_ = bip::mapped_region();
}

int SharedMemory::native_handle() const noexcept {
  return object_.get_mapping_handle().handle;
}

std::uint64_t SharedMemory::file_size() const {
  return static_cast<std::uint64_t>(status().st_size);
}

struct stat SharedMemory::status() const {
  struct stat result {};
  if (fstat(native_handle(), &result) != 0) {
    throw os_error(errno, "stat shared memory", "/dev/shm" + name_);
  }
  return result;
}

ino_t SharedMemory::inode() const {
  return status().st_ino;
}

gid_t SharedMemory::group() const {
  return status().st_gid;
}

double SharedMemory::age_seconds() const {
  struct stat status {};
  if (fstat(native_handle(), &status) != 0) {
    return 0.0;
  }
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<double>(now.tv_sec - status.st_ctim.tv_sec) +
         static_cast<double>(now.tv_nsec - status.st_ctim.tv_nsec) * 1e-9;
}

bool SharedMemory::try_lock_exclusive() noexcept {
  return flock(native_handle(), LOCK_EX | LOCK_NB) == 0;
}

std::int64_t shm_free_bytes() noexcept {
  struct statvfs status {};
  if (statvfs("/dev/shm", &status) != 0) {
    return -1;
  }
  return static_cast<std::int64_t>(status.f_bavail) * static_cast<std::int64_t>(status.f_frsize);
}

}  // namespace shmsnap::detail
