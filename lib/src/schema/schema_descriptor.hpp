// Private to lib/src: a schema descriptor (the JSON of shmsnap/schema.hpp) parsed and
// fully validated into a plan that decode, encode and the compatibility check walk
// without further checks. Immutable once built; safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
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
inline constexpr std::size_t descriptor_max_unit = 32;            ///< a field's "unit", in bytes
inline constexpr std::size_t descriptor_max_description = 256;    ///< a field's "description", in bytes
/// JSON nesting of the descriptor text: each struct level costs 3 (field object,
/// "struct" object, "fields" array) and a leaf at most 3 more (an enum's values), so
/// every descriptor within descriptor_max_depth fits. Checked on the raw text before
/// parsing, so neither the parse nor any recursive walk sees a deeper document.
inline constexpr std::size_t descriptor_max_json_depth = 3 * descriptor_max_depth + 8;

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

// The plans are plain data read by the codec; only their lookup indexes, derived
// from the data by index() once before the plan is shared, are private.
// NOLINTBEGIN(cppcoreguidelines-non-private-member-variables-in-classes)

/// An enum: values as bit patterns of the underlying type, zero-extended, so a
/// value read from memory compares with a plain ==. Lookups go through indexes built
/// once by the parser (index()), so an enum of many values decodes in O(log n).
struct EnumPlan {
  std::string name;
  ElementType underlying = ElementType::u8;
  std::vector<std::pair<std::uint64_t, std::string>> values;  ///< descriptor order

  /// The name of the first value whose pattern is `bits`, or nullptr when none has it.
  [[nodiscard]] const std::string* name_of(std::uint64_t bits) const noexcept;
  /// The pattern of the first value named `text`, or nothing.
  [[nodiscard]] std::optional<std::uint64_t> value_of(std::string_view text) const noexcept;
  /// Builds the lookup indexes from `values`; called once, before the plan is shared.
  void index();

 private:
  std::vector<std::uint32_t> by_value_;  ///< positions in values, sorted by (bits, position)
  std::vector<std::uint32_t> by_name_;   ///< positions in values, sorted by (name, position)
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
  std::string count_field;          ///< "count_field": a bounded sequence's count; empty for others
  /// "unit" and "description": what the number means, for people and tools; empty when
  /// absent. Not part of the layout, so neither the fingerprint nor compatibility sees them.
  std::string unit;
  std::string description;
  std::shared_ptr<const StructPlan> structure;
  std::shared_ptr<const EnumPlan> enumeration;
};

/// A struct: fields never overlap and all lie inside size.
struct StructPlan {
  std::string name;
  std::uint64_t size = 0;
  std::uint64_t align = 0;  ///< 0 when the descriptor does not say
  std::vector<FieldPlan> fields;

  /// The field named `text`, or nullptr; O(log n) through an index built by index().
  [[nodiscard]] const FieldPlan* field_named(std::string_view text) const noexcept;
  /// Builds the name index from `fields`; called once, before the plan is shared.
  void index();

 private:
  std::vector<std::uint32_t> by_name_;  ///< positions in fields, sorted by name
};
// NOLINTEND(cppcoreguidelines-non-private-member-variables-in-classes)

/// A bounded sequence: root.fields[field] is the last top-level field, a
/// one-dimensional array of which only the first root.fields[count_field] elements
/// (an earlier unsigned integer scalar) are in use. Every other field ends at or
/// before its offset, so the bytes in use are a prefix of the snapshot.
struct BoundedSequence {
  std::size_t field = 0;
  std::size_t count_field = 0;
};

/// A whole descriptor.
struct DescriptorPlan {
  std::string name;
  std::uint32_t version = 0;
  StructPlan root;
  std::optional<BoundedSequence> sequence;           ///< a field with "count_field", when there is one
  std::optional<std::uint64_t> claimed_fingerprint;  ///< "fingerprint" when present (and verified)
};

/// Parses and validates a descriptor. Throws Error{Errc::invalid_region} whose message
/// says what is wrong and where ("fields[2].struct.fields[0] ('x'): ..."). A descriptor
/// that states a "fingerprint" must hash to it (canonical_layout_text()), so a layout
/// edited under another schema's fingerprint is refused here, where every reader of
/// outside descriptors (regions, recordings, bridge records) passes.
[[nodiscard]] DescriptorPlan parse_descriptor(std::string_view descriptor_json);

/// The canonical layout text of schemas/README.md ("shmsnap-layout 1\nschema ...") for
/// a parsed plan; its FNV-1a hash is the fingerprint. Throws Error{Errc::invalid_region}
/// when the plan cannot be written unambiguously: a struct without "align", or a name
/// outside the compiler's alphabet (letters, digits, '_'; '.' in the schema name).
[[nodiscard]] std::string canonical_layout_text(const DescriptorPlan& plan);

/// 64-bit FNV-1a, the fingerprint hash (same as shmsnap-schemac's fnv1a64).
[[nodiscard]] constexpr std::uint64_t fnv1a64(std::string_view text) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

/// How many elements of the plan's bounded sequence `bytes` holds in use: the count
/// field's value clamped to the capacity and to the whole elements that lie inside
/// `bytes` (which must reach the sequence's offset). Checked arithmetic only.
[[nodiscard]] std::uint64_t elements_in_use(const DescriptorPlan& plan, const std::byte* bytes,
                                            std::size_t size) noexcept;

/// Why `text` cannot be a field's "unit" or "description" of at most `max_bytes`
/// bytes, or empty when it can: 1..max_bytes bytes of well-formed UTF-8 without control
/// characters (C0, DEL, C1), line or paragraph separators or bidirectional overrides,
/// so a terminal or a page shows it as the text it claims to be.
[[nodiscard]] std::string note_text_problem(std::string_view text, std::size_t max_bytes);

/// A field's type as a schema would spell it: "f64[10]", "char[16]", "struct Vec3",
/// "enum Status : u8", "f64[6][6]"; used in messages.
[[nodiscard]] std::string describe_type(const FieldPlan& field);

}  // namespace shmsnap::detail
