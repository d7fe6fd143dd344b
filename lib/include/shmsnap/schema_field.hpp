// The field table of a generated snapshot type (T::shmsnap_fields(), emitted by
// shmsnap-schemac): every field with the offset and size the C++ compiler chose, so
// tests and tools can check them against the schema descriptor. constexpr data only.
#pragma once

#include <cstddef>
#include <string_view>

namespace shmsnap {

/// One field of a generated snapshot type. Fields of nested structs appear by dotted
/// path ("pose.position.x"); inside an array of structs, element 0 stands for all
/// ("legs[0].x").
struct FieldInfo {
  std::string_view path;   ///< e.g. "bid_price" or "pose.position.x"
  std::string_view type;   ///< as written in the schema, e.g. "f64[10]" or "Vec3"
  std::size_t offset = 0;  ///< bytes from the start of the snapshot
  std::size_t size = 0;    ///< bytes of the whole member, all elements
};

}  // namespace shmsnap
