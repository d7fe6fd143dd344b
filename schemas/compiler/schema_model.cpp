// The facts schema_model.hpp declares: the table of primitives (schema spelling, size,
// C++ spelling) and the model's own helpers.
#include "schema_model.hpp"

#include <array>

namespace shmsnap::schemac {

namespace {

// Indexed by Primitive: the order here is the enum's order.
constexpr std::array<PrimitiveInfo, primitive_count> primitive_table{{
    {"bool", 1, "bool"},
    {"i8", 1, "::std::int8_t"},
    {"i16", 2, "::std::int16_t"},
    {"i32", 4, "::std::int32_t"},
    {"i64", 8, "::std::int64_t"},
    {"u8", 1, "::std::uint8_t"},
    {"u16", 2, "::std::uint16_t"},
    {"u32", 4, "::std::uint32_t"},
    {"u64", 8, "::std::uint64_t"},
    {"f32", 4, "float"},
    {"f64", 8, "double"},
    {"char", 1, "char"},
}};

}  // namespace

const PrimitiveInfo& primitive_info(Primitive p) noexcept {
  return primitive_table[static_cast<std::size_t>(p)];
}

std::optional<Primitive> primitive_by_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < primitive_table.size(); ++i) {
    if (primitive_table[i].name == name) {
      return static_cast<Primitive>(i);
    }
  }
  return std::nullopt;
}

bool is_integer(Primitive p) noexcept {
  return p != Primitive::boolean && p != Primitive::f32 && p != Primitive::f64 && p != Primitive::character;
}

bool is_signed_integer(Primitive p) noexcept {
  return p == Primitive::i8 || p == Primitive::i16 || p == Primitive::i32 || p == Primitive::i64;
}

std::string Schema::qualified_type_name() const {
  std::string out;
  for (const auto& part : namespaces)
    out += part + "::";
  return out + root.name;
}

}  // namespace shmsnap::schemac
