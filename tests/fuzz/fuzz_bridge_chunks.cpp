// libFuzzer target: the chunk manifest and chunk parsers on arbitrary bytes, i.e.
// what anyone with write access to the bridge's bucket may put under a chunked
// value and its chunk keys. Input: 32 bytes of manifest, 4 bytes of chunk index,
// then the chunk value. Properties: an accepted manifest re-encodes to exactly its
// bytes and stays within the bounds an importer allocates for; an accepted chunk
// lies inside the snapshot, has exactly its extent's length, and re-encodes from
// the manifest to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "chunks.hpp"

namespace {
void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shmsnap::bridge;
  const std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                     reinterpret_cast<const std::byte*>(data) + size);
  const std::span<const std::byte> all(bytes.data(), bytes.size());
  std::string why;
  const auto manifest = decode_manifest(all.first(std::min(size, manifest_size)), why);
  if (!manifest) {
    require(!why.empty());
    return 0;
  }
  require(manifest->total_size > 0 && manifest->total_size <= max_chunked_size);
  require(manifest->chunk_count > 0 && manifest->chunk_count <= max_chunk_count);
  std::vector<std::byte> encoded;
  encode_manifest(*manifest, encoded);
  require(std::equal(encoded.begin(), encoded.end(), bytes.begin()));
  // The chunks cover the snapshot exactly: the last one ends at total_size.
  const ChunkExtent last = chunk_extent(*manifest, manifest->chunk_count - 1);
  require(last.length > 0 && last.offset + last.length == manifest->total_size);
  if (size < manifest_size + 4) {
    return 0;
  }
  std::uint32_t index = 0;
  std::memcpy(&index, data + manifest_size, sizeof index);
  const auto chunk = decode_chunk(all.subspan(manifest_size + 4), *manifest, index, why);
  if (!chunk) {
    require(!why.empty());
    return 0;
  }
  const ChunkExtent extent = chunk_extent(*manifest, index);
  require(index < manifest->chunk_count);
  require(chunk->size() == extent.length && extent.offset + extent.length <= manifest->total_size);
  // Re-encoding needs the whole snapshot; a small one is enough to compare this chunk.
  if (manifest->total_size <= (1U << 20)) {
    std::vector<std::byte> snapshot(manifest->total_size);
    std::memcpy(snapshot.data() + extent.offset, chunk->data(), chunk->size());
    encode_chunk(*manifest, index, snapshot, encoded);
    require(std::equal(encoded.begin(), encoded.end(), bytes.begin() + manifest_size + 4, bytes.end()) &&
            encoded.size() == size - manifest_size - 4);
  }
  return 0;
}
