// One POSIX shared-memory object (shm_open) and its mapping, through
// Boost.Interprocess; Boost's exceptions become shmsnap::Error here.
// Used by one thread at a time.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

namespace shmsnap::detail {

class SharedMemory {
 public:
  enum class Access { read_only, read_write };

  SharedMemory() = default;
  SharedMemory(SharedMemory&&) noexcept = default;
  SharedMemory& operator=(SharedMemory&&) noexcept = default;

  /// Creates `name` exclusively with `mode` (umask not applied). Throws Error;
  /// Errc::busy when it exists.
  [[nodiscard]] static SharedMemory create(const std::string& name, mode_t mode);
  /// Opens an existing object. Throws Error.
  [[nodiscard]] static SharedMemory open(const std::string& name, Access access);
  /// Removes the name; true when it existed.
  static bool remove(const std::string& name) noexcept;

  /// Sets the size and reserves the pages now (posix_fallocate), so that a full
  /// /dev/shm fails here instead of as SIGBUS on a later write.
  void reserve(std::uint64_t size);
  /// Maps the whole object (its current size).
  void map();
  /// Unmaps (idempotent).
  void unmap() noexcept;

  /// Size of the object now (fstat).
  [[nodiscard]] std::uint64_t file_size() const;
  /// Inode number: tells two objects of the same name apart.
  [[nodiscard]] ino_t inode() const;
  /// Owning group of the object.
  [[nodiscard]] gid_t group() const;
  /// Seconds since the object's last status change.
  [[nodiscard]] double age_seconds() const;
  /// Tries to take the exclusive advisory lock (flock) without blocking.
  [[nodiscard]] bool try_lock_exclusive() noexcept;

  [[nodiscard]] void* address() const noexcept { return mapping_.get_address(); }
  [[nodiscard]] std::size_t mapped_size() const noexcept { return mapping_.get_size(); }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] int native_handle() const noexcept;

 private:
  [[nodiscard]] struct stat status() const;

  boost::interprocess::shared_memory_object object_;
  boost::interprocess::mapped_region mapping_;
  std::string name_;
  Access access_ = Access::read_only;
};

/// Free bytes in the filesystem behind /dev/shm, or -1 when unknown.
[[nodiscard]] std::int64_t shm_free_bytes() noexcept;

}  // namespace shmsnap::detail
