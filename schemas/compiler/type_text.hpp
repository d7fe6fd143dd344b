// The type text of a field ("f64", "char[16]", "Vec3[4][4]"): its grammar, read into
// a base name and array dimensions. What the base name means is layout's business.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shmsnap::schemac {

/// The types a field may have, for messages about a type that is not one of them.
inline constexpr std::string_view type_list_hint =
    "expected bool, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, char[N], "
    "or a struct or enum defined in this file";

/// A type as written: the base name and every dimension, a char length included.
struct ParsedType {
  std::string base;
  std::vector<std::uint64_t> dims;
};

/// Parses `text`; on nullopt `why_not` says what is wrong with it. Lengths are checked
/// against max_array_length and the count of dimensions against max_array_dimensions
/// (one more is allowed: the last dimension of a char array is its length).
[[nodiscard]] std::optional<ParsedType> parse_type_text(std::string_view text, std::string& why_not);

/// The base name of `type_text` ("Vec3" of "Vec3[4]"), read leniently: it serves to
/// find which structs a struct contains, before its types are checked.
[[nodiscard]] std::string base_name_of(std::string_view type_text);

}  // namespace shmsnap::schemac
