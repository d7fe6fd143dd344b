#include "region/shared_memory.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string_view>
#include <utility>

#include "shmsnap/error.hpp"
#include "system/os_error.hpp"

namespace shmsnap::detail {
namespace {

// From the kernel UAPI headers of Linux 6.3 (memfd and fcntl), which older ones lack.
constexpr unsigned memfd_noexec_flag = 0x0008U;  // MFD_NOEXEC_SEAL
constexpr unsigned seal_exec = 0x0020U;          // F_SEAL_EXEC

constexpr std::string_view shm_fix =
    "free space there, use fewer or smaller slots, or give the container more (docker run --shm-size=...)";

// Free files (inodes) in /dev/shm, or -1 when unknown: a tmpfs can run out of
// those with bytes to spare, and the fix differs.
std::int64_t shm_free_files() noexcept {
  struct statvfs status {};
  if (statvfs("/dev/shm", &status) != 0) {
    return -1;
  }
  return static_cast<std::int64_t>(status.f_favail);
}

std::string space_left() {
  const std::int64_t free_bytes = shm_free_bytes();
  const std::int64_t free_files = shm_free_files();
  if (free_files == 0) {
    return "/dev/shm has no free files (inodes) left; remove unused objects there ('shmsnap clean') or mount it "
           "with more (nr_inodes=)";
  }
  return "/dev/shm has " + (free_bytes < 0 ? std::string("an unknown amount") : describe_bytes(free_bytes)) +
         " free; " + std::string(shm_fix);
}

}  // namespace

std::string describe_bytes(std::uint64_t bytes) {
  char text[48];
  if (bytes < 1024) {
    std::snprintf(text, sizeof text, "%llu bytes", static_cast<unsigned long long>(bytes));
  } else if (bytes < 1024 * 1024) {  // NOLINT(bugprone-implicit-widening-of-multiplication-result): a constant
    std::snprintf(text, sizeof text, "%.1f KiB (%llu bytes)", static_cast<double>(bytes) / 1024.0,
                  static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  }
  return text;
}

std::string describe_file_type(mode_t mode) {
  if (S_ISREG(mode)) {
    return "a regular file";
  }
  if (S_ISDIR(mode)) {
    return "a directory";
  }
  if (S_ISFIFO(mode)) {
    return "a FIFO";
  }
  if (S_ISLNK(mode)) {
    return "a symbolic link";
  }
  if (S_ISSOCK(mode)) {
    return "a socket";
  }
  if (S_ISCHR(mode) || S_ISBLK(mode)) {
    return "a device node";
  }
  return "not a regular file";
}

SharedMemory::SharedMemory(SharedMemory&& other) noexcept {
  *this = std::move(other);
}

SharedMemory& SharedMemory::operator=(SharedMemory&& other) noexcept {
  if (this != &other) {
    close();
    descriptor_ = std::exchange(other.descriptor_, -1);
    address_ = std::exchange(other.address_, nullptr);
    mapped_size_ = std::exchange(other.mapped_size_, 0);
    name_ = std::move(other.name_);
    access_ = other.access_;
    anonymous_ = other.anonymous_;
  }
  return *this;
}

SharedMemory::~SharedMemory() {
  close();
}

void SharedMemory::close() noexcept {
  unmap();
  if (descriptor_ >= 0) {
    ::close(descriptor_);
    descriptor_ = -1;
  }
}

SharedMemory SharedMemory::create(const std::string& name, mode_t mode) {
  SharedMemory created;
  created.descriptor_ = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (created.descriptor_ < 0) {
    const int err = errno;
    throw os_error(err, "create shared memory", "/dev/shm" + name, err == ENOSPC ? space_left() : "");
  }
  // The mode as asked for, whatever the umask.
  fchmod(created.descriptor_, mode);
  created.name_ = name;
  created.access_ = Access::read_write;
  return created;
}

SharedMemory SharedMemory::open(const std::string& name, Access access) {
  SharedMemory opened;
  // O_NOFOLLOW: a link planted under the name is refused, not followed.
  // O_NONBLOCK: a FIFO planted under the name cannot block the open.
  const int flags = (access == Access::read_write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  opened.descriptor_ = shm_open(name.c_str(), flags, 0);
  if (opened.descriptor_ < 0) {
    const int err = errno;
    // A link, directory or other non-file planted under the name fails in ways
    // (ELOOP, EISDIR, EINVAL) that do not say what is there: look and say it.
    struct stat planted {};
    if (err != ENOENT && err != EACCES && lstat(("/dev/shm" + name).c_str(), &planted) == 0 &&
        !S_ISREG(planted.st_mode)) {
      throw Error(Errc::invalid_region,
                  "/dev/shm" + name + " is " + describe_file_type(planted.st_mode) +
                      ", not a shmsnap region (shmsnap never follows links; someone may be blocking or "
                      "redirecting the topic); remove it ('shmsnap clean --force') or use another topic or prefix",
                  err);
    }
    throw os_error(err, "open shared memory", "/dev/shm" + name,
                   err == ENOENT ? "no publisher has created this topic (check the topic name and prefix)" : "");
  }
  opened.name_ = name;
  opened.access_ = access;
  const struct stat status = opened.status();
  if (!S_ISREG(status.st_mode)) {
    throw Error(Errc::invalid_region, "/dev/shm" + name + " is " + describe_file_type(status.st_mode) +
                                          ", not a shmsnap region; remove it ('shmsnap clean --force') or use "
                                          "another topic or prefix");
  }
  return opened;
}

bool SharedMemory::remove(const std::string& name) noexcept {
  return shm_unlink(name.c_str()) == 0;
}

void SharedMemory::reserve(std::uint64_t size) {
  // Refuse up front what cannot fit: tmpfs would otherwise allocate page by page
  // until it runs dry, squeezing every other user of /dev/shm on the way. A memfd
  // is not in /dev/shm: its limit is the memory cgroup, and fallocate reports it.
  if (const std::int64_t free_bytes = shm_free_bytes();
      !anonymous_ && free_bytes >= 0 && size > static_cast<std::uint64_t>(free_bytes)) {
    throw Error(Errc::out_of_space,
                "cannot reserve " + describe_bytes(size) + " for /dev/shm" + name_ + ": " + space_left(), ENOSPC);
  }
  if (ftruncate(descriptor_, static_cast<off_t>(size)) != 0) {
    const int err = errno;
    throw os_error(err, "size shared memory", resource(), err == ENOSPC && !anonymous_ ? space_left() : "");
  }
  const int err = posix_fallocate(descriptor_, 0, static_cast<off_t>(size));
  if (err != 0) {
    throw os_error(err, "reserve " + describe_bytes(size) + " for", resource(),
                   err == ENOSPC && !anonymous_ ? space_left() : "");
  }
}

void SharedMemory::map() {
  unmap();
  const std::uint64_t size = file_size();
  if (size == 0) {
    throw Error(Errc::invalid_region, "cannot map /dev/shm" + name_ + ": it is empty (truncated, or being created)");
  }
  const int protection = access_ == Access::read_write ? PROT_READ | PROT_WRITE : PROT_READ;
  void* address = mmap(nullptr, size, protection, MAP_SHARED, descriptor_, 0);
  if (address == MAP_FAILED) {
    throw os_error(errno, "map shared memory", resource());
  }
  address_ = address;
  mapped_size_ = size;
}

void SharedMemory::unmap() noexcept {
  if (address_ != nullptr) {
    munmap(address_, mapped_size_);
    address_ = nullptr;
    mapped_size_ = 0;
  }
}

std::string SharedMemory::resource() const {
  return anonymous_ ? "memfd " + name_ : "/dev/shm" + name_;
}

SharedMemory SharedMemory::create_sealable(const std::string& label) {
  SharedMemory created;
  // memfd names are at most 249 bytes; the label is for /proc/PID/fd only.
  const std::string name = label.substr(0, 200);
  // No-exec first (newer kernels warn about a memfd that may become executable);
  // kernels before 6.3 do not know the flag and say EINVAL.
  created.descriptor_ = memfd_create(name.c_str(), MFD_ALLOW_SEALING | MFD_CLOEXEC | memfd_noexec_flag);
  if (created.descriptor_ < 0 && errno == EINVAL) {
    created.descriptor_ = memfd_create(name.c_str(), MFD_ALLOW_SEALING | MFD_CLOEXEC);
  }
  if (created.descriptor_ < 0) {
    throw os_error(errno, "create the sealed region", "memfd " + name,
                   "raise the open-file limit (ulimit -n) or free memory");
  }
  created.name_ = name;
  created.access_ = Access::read_write;
  created.anonymous_ = true;
  return created;
}

void SharedMemory::seal() {
  SHMSNAP_EXPECTS(anonymous_ && address_ != nullptr);
  if (fcntl(descriptor_, F_ADD_SEALS, static_cast<int>(sealed_region_seals())) != 0) {
    throw os_error(errno, "seal", resource(), "this kernel needs F_SEAL_FUTURE_WRITE (Linux 5.1 or newer)");
  }
}

SharedMemory SharedMemory::adopt_sealed(int descriptor, std::uint64_t min_size, std::uint64_t max_size) {
  SharedMemory adopted;
  adopted.descriptor_ = descriptor;  // closed by the destructor on every failure below
  adopted.access_ = Access::read_only;
  adopted.anonymous_ = true;
  adopted.name_ = "(received descriptor " + std::to_string(descriptor) + ")";
  const auto refuse = [&](const std::string& why) {
    return Error(Errc::invalid_region, "the region descriptor the publisher sent is " + why +
                                           "; a shmsnap publisher in socket mode sends a sealed memfd, so the "
                                           "peer is not one (or is of an incompatible version): check who "
                                           "listens on the socket");
  };
  // A memfd's /proc link reads "/memfd:<label> (deleted)": a regular file, a
  // shm_open object or a pipe under a memfd's seals cannot pass for one.
  std::array<char, PATH_MAX> target{};
  const std::string link = "/proc/self/fd/" + std::to_string(descriptor);
  const ssize_t length = readlink(link.c_str(), target.data(), target.size() - 1);
  if (length < 0) {
    throw os_error(errno, "inspect", "the received region descriptor " + std::to_string(descriptor),
                   "mount /proc in the subscriber's container");
  }
  const std::string_view path(target.data(), static_cast<std::size_t>(length));
  if (path.substr(0, 7) != "/memfd:") {
    throw refuse("not a memfd (it is '" + std::string(path.substr(0, 64)) + "')");
  }
  // The label is the sender's to choose: only printable bytes reach a message.
  adopted.name_.clear();
  for (const char byte : path.substr(1, 64)) {
    adopted.name_.push_back(byte > ' ' && byte < 127 ? byte : '?');
  }
  const struct stat status = adopted.status();
  if (!S_ISREG(status.st_mode)) {
    throw refuse(describe_file_type(status.st_mode));
  }
  const int seals = fcntl(descriptor, F_GET_SEALS);
  if (seals < 0) {
    throw refuse("a file that cannot be sealed (" + std::string(strerror(errno)) + ")");
  }
  const unsigned required = sealed_region_seals();
  const auto present = static_cast<unsigned>(seals);
  if ((present & required) != required || (present & ~(required | seal_exec)) != 0) {
    char text[96];
    std::snprintf(text, sizeof text, "sealed with 0x%x instead of 0x%x", present, required);
    throw refuse(std::string(text) +
                 " (shrink, grow, future-write and seal), so it could be written or truncated "
                 "under this reader");
  }
  const auto size = static_cast<std::uint64_t>(status.st_size);
  if (size < min_size || size > max_size) {
    throw refuse(describe_bytes(size) + " long, outside " + describe_bytes(min_size) + " .. " +
                 describe_bytes(max_size));
  }
  adopted.map();
  return adopted;
}

std::uint64_t SharedMemory::file_size() const {
  return static_cast<std::uint64_t>(status().st_size);
}

struct stat SharedMemory::status() const {
  struct stat result {};
  if (fstat(descriptor_, &result) != 0) {
    throw os_error(errno, "stat shared memory", resource());
  }
  return result;
}

ino_t SharedMemory::inode() const {
  return status().st_ino;
}

uid_t SharedMemory::owner() const {
  return status().st_uid;
}

gid_t SharedMemory::group() const {
  return status().st_gid;
}

mode_t SharedMemory::mode() const {
  return status().st_mode & 07777;
}

double SharedMemory::age_seconds() const {
  struct stat status {};
  if (fstat(descriptor_, &status) != 0) {
    return 0.0;
  }
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<double>(now.tv_sec - status.st_ctim.tv_sec) +
         static_cast<double>(now.tv_nsec - status.st_ctim.tv_nsec) * 1e-9;
}

bool SharedMemory::try_lock_exclusive() noexcept {
  return flock(descriptor_, LOCK_EX | LOCK_NB) == 0;
}

unsigned sealed_region_seals() noexcept {
  return F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL;
}

std::int64_t shm_free_bytes() noexcept {
  struct statvfs status {};
  if (statvfs("/dev/shm", &status) != 0) {
    return -1;
  }
  return static_cast<std::int64_t>(status.f_bavail) * static_cast<std::int64_t>(status.f_frsize);
}

}  // namespace shmsnap::detail
