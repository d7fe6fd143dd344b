// Private to lib/src: a schema descriptor (the JSON of shmsnap/schema.hpp) parsed and
// fully validated into a plan that decode, encode and the compatibility check walk
// without further checks. Immutable once built; safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace shmsnap::detail {

/// Bounds on what a descriptor may describe; anything beyond is refused as invalid.
inline constexpr std::size_t descriptor_max_depth = 32;  ///< struct inside struct ...
inline constexpr std::size_t descriptor_max_dims = 8;
inline constexpr std::uint64_t descriptor_max_size = 1ULL << 32;  ///< bytes of any struct
inline constexpr std::size_t descriptor_max_name = 256;           ///< any name, in bytes
inline constexpr std::size_t descriptor_max_fields = 1U << 20;    ///< all structs together

/// The element type of a field.
enum class ElementType : std::uint8_t {
  boolean,
  i8,
  i16,
  i32,
  i64,
  u8,
  u16,
  u32,
  u64,
  f32,
  f64,
  character,
  structure,
  enumeration
};

/// "bool", "i8", ..., "char", "struct", "enum": the descriptor spelling.
[[nodiscard]] std::string_view element_type_name(ElementType type) noexcept;

/// Bytes of a scalar element type; 0 for char, struct and enum (the field decides).
[[nodiscard]] std::uint64_t element_type_size(ElementType type) noexcept;

/// An enum: values as bit patterns of the underlying type, zero-extended, so a
/// value read from memory compares with a plain ==.
struct EnumPlan {
  std::string name;
  ElementType underlying = ElementType::u8;
  std::vector<std::pair<std::uint64_t, std::string>> values;
};

struct StructPlan;

/// One field; offset is from the start of the enclosing struct.
struct FieldPlan {
  std::string name;
  ElementType type = ElementType::u8;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;          ///< element_size * count
  std::uint64_t element_size = 0;  ///< scalar size, char length, struct size
  std::uint64_t count = 1;
  bool is_array = false;            ///< "count" present
  std::vector<std::uint64_t> dims;  ///< "dims" present: product == count
  std::uint64_t length = 0;         ///< char only
  std::shared_ptr<const StructPlan> structure;
  std::shared_ptr<const EnumPlan> enumeration;
};

/// A struct: fields never overlap and all lie inside size.
struct StructPlan {
  std::string name;
  std::uint64_t size = 0;
  std::uint64_t align = 0;  ///< 0 when the descriptor does not say
  std::vector<FieldPlan> fields;
};

/// A whole descriptor.
struct DescriptorPlan {
  std::string name;
  std::uint32_t version = 0;
  StructPlan root;
};

/// Parses and validates a descriptor. Throws Error{Errc::invalid_region} whose message
/// says what is wrong and where ("fields[2].struct.fields[0] ('x'): ...").
[[nodiscard]] DescriptorPlan parse_descriptor(std::string_view descriptor_json);

/// A field's type as a schema would spell it: "f64[10]", "char[16]", "struct Vec3",
/// "enum Status : u8", "f64[6][6]"; used in messages.
[[nodiscard]] std::string describe_type(const FieldPlan& field);

}  // namespace shmsnap::detail
