// Snapshot bytes <-> JSON through a schema descriptor (the JSON that every region and
// every SchemaInfo carries), so tools such as `shmsnap dump` print any topic without
// its C++ type, and replay tools publish from JSON. Setup-time API: it allocates and
// throws shmsnap::Error. A SnapshotCodec is immutable: share one between threads freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shmsnap {

namespace detail {
struct DescriptorPlan;
}  // namespace detail

/// A descriptor parsed and validated once, for decoding or encoding many snapshots.
///
/// JSON mapping: a struct is an object keyed by field name; an array is a JSON array
/// (nested for multi-dimensional ones); bool is true/false (any non-zero byte is true); integers and floats are
/// numbers, except non-finite floats, which are the strings "NaN", "Infinity" and "-Infinity"; char[N] is a string cut
/// at the first NUL (invalid UTF-8 bytes become U+FFFD); an enum is its value's name, or the number when the value has
/// no name.
class SnapshotCodec {
 public:
  /// How decode() writes non-finite floats: as the strings of the mapping above
  /// (JSON text has no NaN), or as JSON numbers holding NaN/inf, for a caller that
  /// converts the value on (the Python binding) and must not mistake them for text.
  enum class NonFinite { as_strings, as_numbers };

  /// Parses `descriptor_json`. Throws Error{Errc::invalid_region} when it is not a
  /// well-formed descriptor: offsets and sizes inside their struct, fields not
  /// overlapping, structs nesting at most 32 deep (the JSON text at most 104 levels),
  /// sizes and counts that agree without overflow (at most 2^32 bytes), and a
  /// "fingerprint", when present, equal to the one its layout hashes to.
  explicit SnapshotCodec(std::string_view descriptor_json);

  /// The schema name, e.g. "market.quote_book".
  [[nodiscard]] const std::string& name() const noexcept;
  /// The schema version.
  [[nodiscard]] std::uint32_t version() const noexcept;
  /// Bytes of one snapshot.
  [[nodiscard]] std::size_t size() const noexcept;

  /// Fewest bytes decode() accepts: size(), or for a schema with a bounded sequence
  /// (a last field with "count_field") the offset of that sequence.
  [[nodiscard]] std::size_t min_size() const noexcept;
  /// Bytes of `bytes` in use: size(), or for a bounded sequence its offset plus its
  /// elements in use (count clamped to the capacity and to the bytes given); what a
  /// publisher of these bytes needs to copy. At least min_size().
  [[nodiscard]] std::size_t used_size(std::span<const std::byte> bytes) const noexcept;

  /// Decodes the first size() bytes of `bytes` (more are ignored). Throws
  /// Error{Errc::invalid_argument} when `bytes` is shorter than min_size(). A bounded
  /// sequence decodes to its elements in use only, and its count field to how many
  /// that is: the stored count clamped to the capacity and to the whole elements
  /// inside `bytes` (a used prefix shorter than size() is enough), never read past.
  [[nodiscard]] nlohmann::json decode(std::span<const std::byte> bytes,
                                      NonFinite non_finite = NonFinite::as_strings) const;
  /// As decode(), with object keys in layout order (nicer to read, e.g. in a dump).
  [[nodiscard]] nlohmann::ordered_json decode_ordered(std::span<const std::byte> bytes,
                                                      NonFinite non_finite = NonFinite::as_strings) const;

  /// Encodes `value` (the mapping above) into size() bytes. Missing fields and all
  /// padding are zero; unknown fields, wrong types, out-of-range numbers (an f32
  /// included: a finite value that would round to infinity), strings
  /// longer than their char[N] and arrays of the wrong length throw
  /// Error{Errc::invalid_argument} naming the field path. A bounded sequence takes
  /// 0..capacity elements and sets its count field to how many; a count given as
  /// well must agree (alone, it must not exceed the capacity).
  [[nodiscard]] std::vector<std::byte> encode(const nlohmann::json& value) const;

  /// What the descriptor says each field means: every field with a "unit" or a
  /// "description" (schemas/README.md), keyed by its path, in layout order:
  /// {"position.x": {"unit": "m"}, "uptime_ns": {"unit": "ns", "description": "..."}}.
  /// A path joins field names with '.' and leaves out array indices, so every element
  /// of `legs` shares "legs.x". Both strings are printable UTF-8 of bounded length (the
  /// parser refused anything else), safe to print. Empty object when no field has one.
  [[nodiscard]] nlohmann::ordered_json field_notes() const;

  /// The field_notes() key of a value path as tools flatten decoded JSON: array
  /// indices removed ("legs[2].x" -> "legs.x", "bid_price[0]" -> "bid_price").
  [[nodiscard]] static std::string field_note_path(std::string_view value_path);

 private:
  std::shared_ptr<const detail::DescriptorPlan> plan_;
};

/// One-shot SnapshotCodec(descriptor_json).decode(bytes).
[[nodiscard]] nlohmann::json decode_snapshot(std::string_view descriptor_json, std::span<const std::byte> bytes);

/// One-shot SnapshotCodec(descriptor_json).encode(value).
[[nodiscard]] std::vector<std::byte> encode_snapshot(std::string_view descriptor_json, const nlohmann::json& value);

}  // namespace shmsnap
