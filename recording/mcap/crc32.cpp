// Slicing-by-4 table CRC: recording hashes every chunk (tens of MB/s), so the
// bytewise loop would cost a noticeable share of a core.
#include "crc32.hpp"

#include <array>

namespace shmsnap::mcap {

namespace {

using Tables = std::array<std::array<std::uint32_t, 256>, 4>;

constexpr Tables make_tables() {
  Tables tables{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1U) != 0 ? 0xedb88320U ^ (c >> 1) : c >> 1;
    tables[0][i] = c;
  }
  for (std::uint32_t i = 0; i < 256; ++i) {
    for (std::size_t t = 1; t < 4; ++t)
      tables[t][i] = (tables[t - 1][i] >> 8) ^ tables[0][tables[t - 1][i] & 0xffU];
  }
  return tables;
}

constexpr Tables tables = make_tables();

}  // namespace

std::uint32_t crc32_update(std::uint32_t state, std::string_view bytes) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  while (n >= 4) {
    state ^= static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
             (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
    state = tables[3][state & 0xffU] ^ tables[2][(state >> 8) & 0xffU] ^ tables[1][(state >> 16) & 0xffU] ^
            tables[0][state >> 24];
    p += 4;
    n -= 4;
  }
  while (n-- > 0)
    state = (state >> 8) ^ tables[0][(state ^ *p++) & 0xffU];
  return state;
}

}  // namespace shmsnap::mcap
