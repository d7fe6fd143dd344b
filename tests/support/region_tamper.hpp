// A read-write mapping of a live region, as a user with write access to it (or a
// stray store) could make: the hostile-user and contract tests rewrite header,
// table and slot bytes through it.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <string>

#include "shmsnap/detail/region_layout.hpp"

namespace shmsnap::test {

/// Maps `shm_name` read-write for the test's lifetime.
class RegionTamper {
 public:
  explicit RegionTamper(const std::string& shm_name) {
    const int descriptor = shm_open(shm_name.c_str(), O_RDWR, 0);
    EXPECT_GE(descriptor, 0) << shm_name;
    struct stat status {};
    fstat(descriptor, &status);
    size_ = static_cast<std::size_t>(status.st_size);
    base_ = static_cast<std::byte*>(mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0));
    close(descriptor);
  }
  ~RegionTamper() { munmap(base_, size_); }
  RegionTamper(const RegionTamper&) = delete;
  RegionTamper& operator=(const RegionTamper&) = delete;

  [[nodiscard]] detail::RegionHeader& header() const { return *reinterpret_cast<detail::RegionHeader*>(base_); }
  [[nodiscard]] std::byte* bytes() const { return base_; }
  [[nodiscard]] std::size_t size() const { return size_; }
  /// The slot that the published word names.
  [[nodiscard]] detail::SlotHeader& published_slot() const {
    const std::uint64_t word = header().published.load();
    return *reinterpret_cast<detail::SlotHeader*>(base_ + header().header_size +
                                                  std::uint64_t{detail::published_slot(word)} * header().slot_stride);
  }

 private:
  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace shmsnap::test
