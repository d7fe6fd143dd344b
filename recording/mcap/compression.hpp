// Chunk compression for MCAP: zstd and LZ4 frame (the two the spec names), through
// Debian's libzstd and liblz4. Stateless functions: any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shmsnap::mcap {

/// How chunk records are compressed.
enum class Compression { none, lz4, zstd };

/// The spec's name: "", "lz4" or "zstd".
[[nodiscard]] std::string_view compression_name(Compression compression) noexcept;

/// Parses "none", "lz4" or "zstd" (as given on a command line). Throws
/// shmsnap::Error{invalid_argument} for anything else.
[[nodiscard]] Compression parse_compression(std::string_view text);

/// Compresses `input` (none: a copy). Throws shmsnap::Error{system} when the library fails.
[[nodiscard]] std::string compress(Compression compression, std::string_view input);

/// Decompresses a chunk whose spec name is `name` into exactly `uncompressed_size`
/// bytes. Throws FormatError for an unknown name, corrupt input or a size that differs.
[[nodiscard]] std::string decompress(std::string_view name, std::string_view input, std::uint64_t uncompressed_size);

}  // namespace shmsnap::mcap
