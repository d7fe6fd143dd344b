// One POSIX shared-memory object (shm_open), or one sealed memfd of the socket
// mode, and its mapping; errno becomes shmsnap::Error here. Opening never follows a
// symbolic link, never blocks on a FIFO, and accepts only a regular file: a name in
// /dev/shm is outside input, and so is a descriptor received over a socket.
// Used by one thread at a time.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shmsnap::detail {

class SharedMemory {
 public:
  enum class Access { read_only, read_write };

  SharedMemory() = default;
  SharedMemory(SharedMemory&& other) noexcept;
  SharedMemory& operator=(SharedMemory&& other) noexcept;
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  /// Unmaps and closes (the name stays).
  ~SharedMemory();

  /// Creates `name` exclusively with `mode` (umask not applied). Throws Error;
  /// Errc::busy when it exists.
  [[nodiscard]] static SharedMemory create(const std::string& name, mode_t mode);
  /// Opens an existing regular object. Throws Error: not_found, permission_denied,
  /// invalid_region when the name is a link, FIFO, directory or other non-file.
  [[nodiscard]] static SharedMemory open(const std::string& name, Access access);
  /// Removes the name; true when it existed.
  static bool remove(const std::string& name) noexcept;

  /// Creates an anonymous, sealable memfd (socket mode: no name anyone can open,
  /// charged to the creator's memory cgroup). `label` shows in /proc/PID/fd only.
  /// Size it with reserve(), map() it writable, then seal(). Throws Error.
  [[nodiscard]] static SharedMemory create_sealable(const std::string& label);
  /// Adds sealed_region_seals, keeping this object's writable mapping: from now on
  /// nobody (this process included) can grow, shrink or newly map, write() or reopen
  /// it writable. Call after reserve() and map(). Throws Error.
  void seal();
  /// Takes ownership of `descriptor` (received from a publisher; closed here on any
  /// failure), checks it is a memfd carrying exactly the seals seal() adds (nothing
  /// less: an unsealed file could be truncated under us or rewritten by its sender's
  /// peers) and a size in [min_size, max_size], and maps it read-only. Throws Error
  /// (invalid_region, naming what is wrong).
  [[nodiscard]] static SharedMemory adopt_sealed(int descriptor, std::uint64_t min_size, std::uint64_t max_size);

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
  /// Owning user and group of the object.
  [[nodiscard]] uid_t owner() const;
  [[nodiscard]] gid_t group() const;
  /// Permission bits of the object now (fstat).
  [[nodiscard]] mode_t mode() const;
  /// Seconds since the object's last status change.
  [[nodiscard]] double age_seconds() const;
  /// Tries to take the exclusive advisory lock (flock) without blocking.
  [[nodiscard]] bool try_lock_exclusive() noexcept;

  [[nodiscard]] void* address() const noexcept { return address_; }
  [[nodiscard]] std::size_t mapped_size() const noexcept { return mapped_size_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] int native_handle() const noexcept { return descriptor_; }
  /// True for a memfd (create_sealable, adopt_sealed): it has no /dev/shm name.
  [[nodiscard]] bool anonymous() const noexcept { return anonymous_; }

 private:
  [[nodiscard]] struct stat status() const;
  void close() noexcept;
  /// "/dev/shm/<name>" or "memfd <label>", for messages.
  [[nodiscard]] std::string resource() const;

  int descriptor_ = -1;
  void* address_ = nullptr;
  std::size_t mapped_size_ = 0;
  std::string name_;
  Access access_ = Access::read_only;
  bool anonymous_ = false;
};

/// The seals of a socket-mode region (F_SEAL_SHRINK | F_SEAL_GROW |
/// F_SEAL_FUTURE_WRITE | F_SEAL_SEAL). A reader refuses a descriptor without every
/// one of them; F_SEAL_EXEC, which newer kernels add to a no-exec memfd, is allowed.
[[nodiscard]] unsigned sealed_region_seals() noexcept;

/// Free bytes in the filesystem behind /dev/shm, or -1 when unknown.
[[nodiscard]] std::int64_t shm_free_bytes() noexcept;

/// "512 bytes", "48.0 KiB", "3.5 MiB": sizes in messages, exact when small.
[[nodiscard]] std::string describe_bytes(std::uint64_t bytes);

/// What a /dev/shm entry of this mode is, for messages ("a FIFO", "a directory"...).
[[nodiscard]] std::string describe_file_type(mode_t mode);

}  // namespace shmsnap::detail
