// zstd at level 1 and LZ4 frame at the default level: recording has to keep up with
// tens of MB/s on one core, so speed wins over ratio.
#include "compression.hpp"

#include <lz4frame.h>
#include <zstd.h>

#include <memory>

#include "records.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/printable.hpp"

namespace shmsnap::mcap {

std::string_view compression_name(Compression compression) noexcept {
  switch (compression) {
    case Compression::lz4:
      return "lz4";
    case Compression::zstd:
      return "zstd";
    case Compression::none:
      break;
  }
  return "";
}

Compression parse_compression(std::string_view text) {
  if (text == "none")
    return Compression::none;
  if (text == "lz4")
    return Compression::lz4;
  if (text == "zstd")
    return Compression::zstd;
  throw Error(Errc::invalid_argument,
              "unknown compression '" + std::string(text) + "': use zstd (the default), lz4 or none");
}

std::string compress(Compression compression, std::string_view input) {
  switch (compression) {
    case Compression::none:
      return std::string(input);
    case Compression::zstd: {
      std::string out(ZSTD_compressBound(input.size()), '\0');
      const std::size_t size = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), 1);
      if (ZSTD_isError(size) != 0)
        throw Error(Errc::system, std::string("zstd compression failed: ") + ZSTD_getErrorName(size));
      out.resize(size);
      return out;
    }
    case Compression::lz4: {
      LZ4F_preferences_t preferences{};
      preferences.frameInfo.contentSize = input.size();
      std::string out(LZ4F_compressFrameBound(input.size(), &preferences), '\0');
      const std::size_t size = LZ4F_compressFrame(out.data(), out.size(), input.data(), input.size(), &preferences);
      if (LZ4F_isError(size) != 0)
        throw Error(Errc::system, std::string("lz4 compression failed: ") + LZ4F_getErrorName(size));
      out.resize(size);
      return out;
    }
  }
  return std::string(input);
}

namespace {

std::string decompress_lz4(std::string_view input, std::uint64_t uncompressed_size) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION)) != 0)
    throw FormatError("cannot create an lz4 decompression context");
  const std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> context(raw,
                                                                                     LZ4F_freeDecompressionContext);
  std::string out(static_cast<std::size_t>(uncompressed_size), '\0');
  std::size_t produced = 0;
  std::size_t consumed = 0;
  for (;;) {
    std::size_t out_room = out.size() - produced;
    std::size_t in_left = input.size() - consumed;
    const std::size_t hint =
        LZ4F_decompress(context.get(), out.data() + produced, &out_room, input.data() + consumed, &in_left, nullptr);
    if (LZ4F_isError(hint) != 0)
      throw FormatError(std::string("corrupt lz4 data: ") + LZ4F_getErrorName(hint));
    produced += out_room;
    consumed += in_left;
    if (hint == 0)
      break;  // frame complete
    if (in_left == 0 && out_room == 0)
      throw FormatError("lz4 data is truncated or larger than the chunk's uncompressed size");
  }
  if (produced != out.size() || consumed != input.size()) {
    throw FormatError("lz4 data decompresses to " + std::to_string(produced) + " bytes, the chunk says " +
                      std::to_string(uncompressed_size));
  }
  return out;
}

}  // namespace

std::string decompress(std::string_view name, std::string_view input, std::uint64_t uncompressed_size) {
  if (name.empty()) {
    if (input.size() != uncompressed_size)
      throw FormatError("an uncompressed chunk's size differs from its uncompressed_size");
    return std::string(input);
  }
  if (name == "zstd") {
    std::string out(static_cast<std::size_t>(uncompressed_size), '\0');
    const std::size_t size = ZSTD_decompress(out.data(), out.size(), input.data(), input.size());
    if (ZSTD_isError(size) != 0)
      throw FormatError(std::string("corrupt zstd data: ") + ZSTD_getErrorName(size));
    if (size != uncompressed_size) {
      throw FormatError("zstd data decompresses to " + std::to_string(size) + " bytes, the chunk says " +
                        std::to_string(uncompressed_size));
    }
    return out;
  }
  if (name == "lz4")
    return decompress_lz4(input, uncompressed_size);
  throw FormatError("unsupported chunk compression '" + printable(name.substr(0, 32)) +
                    "' (shmsnap reads zstd, lz4 and uncompressed chunks)");
}

}  // namespace shmsnap::mcap
