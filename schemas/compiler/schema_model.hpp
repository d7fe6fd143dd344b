// The schema compiler's model of one schema file: what the front end produces
// (parsed, validated, laid out) and the back end consumes. Plain data, built once
// by compile_schema_text() and read-only afterwards; safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shmsnap::schemac {

// Limits keep every schema inside what the region can carry (the region header
// holds a 64-byte schema name and at most 256 KiB of descriptor) and bound the
// work a hostile or mistyped file can cause.
inline constexpr std::size_t max_source_bytes = 1024 * 1024;    ///< larger .toml files are refused
inline constexpr std::size_t max_schema_name_length = 63;       ///< fits the region's char[64]
inline constexpr std::size_t max_identifier_length = 64;        ///< field, struct, enum, value names
inline constexpr std::uint64_t max_array_length = 1u << 20;     ///< per array dimension
inline constexpr std::size_t max_array_dimensions = 4;          ///< f64[2][3][4][5] at most
inline constexpr std::uint64_t max_snapshot_size = 256u << 20;  ///< bytes, any struct
inline constexpr std::size_t max_nesting_depth = 16;            ///< struct inside struct ...
inline constexpr std::size_t max_fields_per_struct = 4096;
inline constexpr std::size_t max_types_per_file = 1024;  ///< structs plus enums
inline constexpr std::size_t max_enum_values = 65536;
inline constexpr std::size_t max_descriptor_fields = 65536;      ///< after nested structs are expanded
inline constexpr std::size_t max_descriptor_bytes = 256 * 1024;  ///< the region's descriptor limit
inline constexpr std::size_t max_unit_length = 32;               ///< a field's unit, bytes
inline constexpr std::size_t max_description_length = 256;       ///< a field's doc as its description, bytes

/// Built-in element types. `character` is the element of a fixed string `char[N]`.
enum class Primitive : std::uint8_t { boolean, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, character };

/// Schema spelling ("u16"), byte size and C++ spelling ("std::uint16_t") of a primitive.
struct PrimitiveInfo {
  std::string_view name;
  std::size_t size;
  std::string_view cpp;
};

/// How many primitives there are: Primitive values run from 0 to primitive_count - 1.
inline constexpr std::size_t primitive_count = static_cast<std::size_t>(Primitive::character) + 1;

/// Facts about a primitive; total over the enum.
[[nodiscard]] const PrimitiveInfo& primitive_info(Primitive p) noexcept;
/// The primitive a schema file spells `name` ("u16"); nullopt for any other text.
[[nodiscard]] std::optional<Primitive> primitive_by_name(std::string_view name) noexcept;
/// True for i8..i64 and u8..u64: the types an enum may use as its underlying type.
[[nodiscard]] bool is_integer(Primitive p) noexcept;
/// True for i8..i64.
[[nodiscard]] bool is_signed_integer(Primitive p) noexcept;

/// 1-based line and column in the .toml file; 0 when unknown.
struct SourceLocation {
  int line = 0;
  int column = 0;
};

/// One error found in a schema file.
struct Diagnostic {
  std::string file;  ///< as given to the compiler
  SourceLocation where;
  std::string subject;  ///< what it is about, e.g. "field 'bid_price'" or "struct 'Vec3'"; may be empty
  std::string message;  ///< the cause, and where useful the fix

  /// "FILE:LINE:COLUMN: error: SUBJECT: MESSAGE", the form editors and CI logs link.
  [[nodiscard]] std::string to_string() const;
};

/// What kind of thing a field's element is.
enum class TypeKind : std::uint8_t { primitive, structure, enumeration };

/// One member of a struct, resolved and laid out.
struct FieldDef {
  std::string name;
  std::string type_text;  ///< as written, e.g. "f64[6][6]"
  std::string doc;
  /// `unit = "..."` as written ("m", "rad", "ns"); empty when absent. Goes into the
  /// descriptor, never into the canonical layout: a unit is not part of the layout.
  std::string unit;
  /// `doc` on one line (whitespace runs, newlines included, become one space): the
  /// descriptor's "description"; empty when there is no doc. Not in the layout either.
  std::string description;
  SourceLocation where;
  TypeKind kind = TypeKind::primitive;
  Primitive primitive = Primitive::u8;  ///< the element (kind primitive) or the enum's underlying type
  std::size_t type_index = 0;           ///< into Schema::structs / Schema::enums for those kinds
  std::vector<std::uint64_t> dims;      ///< array dimensions in C order, without a char length
  std::uint64_t char_length = 0;        ///< N of char[N]; 0 for other types

  std::uint64_t offset = 0;        ///< from the start of the enclosing struct
  std::uint64_t element_size = 0;  ///< one element: a scalar, a whole char[N], a struct
  std::uint64_t element_align = 1;
  std::uint64_t count = 1;  ///< product of dims (1 when not an array)
  std::uint64_t size = 0;   ///< element_size * count
  /// Bounded sequence: the earlier top-level unsigned field that holds how many of
  /// this array's elements are in use (`count_field = "..."`); empty for other fields.
  std::string count_field;

  /// True when the field is declared with dimensions (f64[1] is an array, f64 is not).
  [[nodiscard]] bool is_array() const noexcept { return !dims.empty(); }
};

/// A struct: the snapshot type itself or one defined by [[struct]].
struct StructDef {
  std::string name;  ///< C++ type name, e.g. "QuoteBook" or "Vec3"
  std::string doc;
  SourceLocation where;
  std::vector<FieldDef> fields;
  std::uint64_t size = 0;   ///< sizeof, padded to align
  std::uint64_t align = 1;  ///< alignof
};

/// One enumerator.
struct EnumValue {
  std::string name;
  std::int64_t value = 0;  ///< TOML integers are 64-bit signed, so u64 values stop at 2^63-1
  SourceLocation where;
};

/// An enum defined by [[enum]].
struct EnumDef {
  std::string name;
  std::string doc;
  SourceLocation where;
  Primitive underlying = Primitive::u8;
  std::vector<EnumValue> values;
};

/// A compiled schema.
struct Schema {
  std::string source_file;
  std::string name;  ///< dotted, e.g. "market.quote_book"
  std::uint32_t version = 0;
  std::vector<std::string> namespaces;  ///< every name part but the last: {"market"}
  StructDef root;                       ///< the snapshot type; root.name is "QuoteBook"
  std::vector<StructDef> structs;       ///< nested types, each after the structs it contains
  std::vector<EnumDef> enums;
  std::string canonical_layout;   ///< the text the fingerprint hashes (see schemas/README.md)
  std::uint64_t fingerprint = 0;  ///< FNV-1a 64 of canonical_layout
  std::string descriptor_json;    ///< compact JSON in the shmsnap/schema.hpp format

  /// "market::QuoteBook".
  [[nodiscard]] std::string qualified_type_name() const;
};

}  // namespace shmsnap::schemac
