// libFuzzer target: decode_schema_record on arbitrary bytes (the JSON an importer
// reads from '<key>/schema' before it creates a local topic). Property: an accepted
// record has a descriptor the runtime codec accepts, of the record's name and
// size, carries that codec's min_size (the least payload an importer accepts, at
// most the size), and survives an encode/decode round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "envelope.hpp"
#include "shmsnap/schema_json.hpp"

namespace {
void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string why;
  const auto record =
      shmsnap::bridge::decode_schema_record(std::span(reinterpret_cast<const std::byte*>(data), size), why);
  if (!record) {
    require(!why.empty());
    return 0;
  }
  const shmsnap::SnapshotCodec codec(record->descriptor);  // must not throw: the decoder checked it
  require(codec.size() == record->size && codec.name() == record->name);
  require(record->min_size == codec.min_size() && record->min_size <= record->size);
  const std::string text = shmsnap::bridge::encode_schema_record(*record);
  const auto again = shmsnap::bridge::decode_schema_record(
      std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()), why);
  require(again && again->fingerprint == record->fingerprint && again->descriptor == record->descriptor &&
          again->version == record->version && again->min_size == record->min_size);
  return 0;
}
