// A cache-line-aligned, zero-filled byte buffer for messages up to megabytes, which do
// not belong on the stack. Owned by one thread.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <span>

namespace shmsnap::bench {

/// Heap bytes aligned to 64 so a message starts on its own cache line, as shm does.
class AlignedBuffer {
 public:
  /// `size` zeroed bytes.
  explicit AlignedBuffer(std::size_t size)
      : size_(size), bytes_(new (std::align_val_t{64}) std::byte[size == 0 ? 1 : size]()) {}

  /// The whole buffer.
  [[nodiscard]] std::span<std::byte> span() noexcept { return {bytes_.get(), size_}; }
  /// The whole buffer, read-only.
  [[nodiscard]] std::span<const std::byte> span() const noexcept { return {bytes_.get(), size_}; }
  /// Start of the buffer.
  [[nodiscard]] std::byte* data() noexcept { return bytes_.get(); }

 private:
  struct AlignedDelete {
    void operator()(std::byte* bytes) const noexcept { ::operator delete[](bytes, std::align_val_t{64}); }
  };
  std::size_t size_;
  std::unique_ptr<std::byte[], AlignedDelete> bytes_;
};

}  // namespace shmsnap::bench
