// libFuzzer target: RegionReader::validate on arbitrary bytes, i.e. whatever a
// hostile or crashed process left in /dev/shm. Property: validate never reads
// outside the bytes, and when it accepts a region every offset a reader later
// follows (subscriber table, descriptor, every slot, the published slot index)
// lies inside the file. ASan turns any stray read below into a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "shmsnap/detail/region_layout.hpp"
#include "shmsnap/region.hpp"

namespace {

using shmsnap::detail::RegionHeader;
using shmsnap::detail::SlotHeader;

void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

// Touches every byte a reader of an accepted region may touch, so ASan sees an
// out-of-bounds offset as a read past the exact-size copy.
void walk_accepted_region(const std::byte* bytes, std::uint64_t size, const shmsnap::RegionGeometry& geometry) {
  // The reader uses validate's geometry, never the header again: walk that.
  const auto [region_size, header_size, slot_count, slot_stride, payload_size, max_subscribers, table_offset,
              descriptor_offset, descriptor_size] = geometry;
  require(region_size == size);
  require(table_offset + std::uint64_t{max_subscribers} * sizeof(shmsnap::detail::SubscriberEntry) <= header_size);
  require(descriptor_offset + descriptor_size <= header_size);
  require(header_size <= size);
  require(slot_stride >= sizeof(SlotHeader) + payload_size);
  require(header_size + std::uint64_t{slot_count} * slot_stride <= size);

  volatile unsigned char sink = 0;
  for (std::uint64_t offset = descriptor_offset; offset < descriptor_offset + descriptor_size; ++offset) {
    sink = static_cast<unsigned char>(sink ^ static_cast<unsigned char>(bytes[offset]));
  }
  for (std::uint32_t slot = 0; slot < slot_count; ++slot) {
    const std::uint64_t base = header_size + std::uint64_t{slot} * slot_stride;
    sink = static_cast<unsigned char>(sink ^ static_cast<unsigned char>(bytes[base]));
    sink = static_cast<unsigned char>(sink ^
                                      static_cast<unsigned char>(bytes[base + sizeof(SlotHeader) + payload_size - 1]));
  }
  // A reader follows the published word only after checking its slot index
  // against slot_count (RegionReader::try_read); the name must be terminated.
  require(std::memchr(bytes + offsetof(RegionHeader, schema_name), 0, sizeof(RegionHeader::schema_name)) != nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size heap copy: any read past `size` is an ASan report. Aligned like
  // a mapping so the header's atomics are not misaligned.
  std::vector<std::uint64_t> storage((size + 7) / 8 + 1);
  auto* bytes = reinterpret_cast<std::byte*>(storage.data());
  if (size != 0) {
    std::memcpy(bytes, data, size);
  }
  const shmsnap::RegionValidation checked = shmsnap::RegionReader::validate(size == 0 ? nullptr : bytes, size);
  if (checked.valid() != checked.problem.empty()) {
    std::abort();  // exactly one of geometry and problem
  }
  if (checked.valid()) {
    walk_accepted_region(bytes, size, *checked.geometry);
  }
  return 0;
}
