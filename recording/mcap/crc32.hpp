// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum MCAP uses for
// chunks, the data section and the summary. Pure functions: any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace shmsnap::mcap {

/// Running CRC-32: start from crc32_init, feed bytes with crc32_update, finish with
/// crc32_final.
inline constexpr std::uint32_t crc32_init = 0xffffffffU;

/// Folds `bytes` into a running state.
[[nodiscard]] std::uint32_t crc32_update(std::uint32_t state, std::string_view bytes) noexcept;

/// The CRC of everything fed into `state`.
[[nodiscard]] constexpr std::uint32_t crc32_final(std::uint32_t state) noexcept {
  return state ^ 0xffffffffU;
}

/// CRC-32 of `bytes` in one call.
[[nodiscard]] inline std::uint32_t crc32(std::string_view bytes) noexcept {
  return crc32_final(crc32_update(crc32_init, bytes));
}

}  // namespace shmsnap::mcap
