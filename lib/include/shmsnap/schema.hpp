// The snapshot contract: what a type must carry to be published through shmsnap.
// Generated schema headers (schemas/, shmsnap-schemac) and hand-written test types
// both satisfy it. Everything here is constexpr data or a pure function.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace shmsnap {

/// Identity and layout of a snapshot type. `descriptor` is the JSON text that the
/// publisher embeds in the region so tools decode any topic without its type:
///
///   {"name": "market.quote_book", "version": 1, "size": 376, "align": 8,
///    "fields": [ FIELD, ... ]}
///   FIELD = {"name": "bid_price", "offset": 16, "size": 80, "type": TYPE,
///            "count": 10 (arrays only), "length": 16 (type "char" only),
///            "count_field": "point_count" (the last top-level field only: a bounded
///            sequence whose in-use element count that earlier unsigned field holds),
///            "unit": "m", "description": "..." (optional annotations: printable text
///            of at most 32 and 256 bytes, outside the fingerprint),
///            "struct": {"name", "size", "align", "fields": [FIELD...]} (type "struct"),
///            "enum": {"name", "underlying": "u8", "values": [{"name","value"}...]} (type "enum")}
///   TYPE  = bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char struct enum
///
/// `size` of a field is its whole extent (element size x count); offsets are
/// relative to the enclosing struct. `fingerprint` is a 64-bit hash of the
/// canonical layout (names, types, offsets, sizes): equal fingerprints mean a
/// reader may copy the writer's bytes as its own type.
struct SchemaInfo {
  std::string_view name;      ///< dotted schema name, e.g. "robot.pose"
  std::uint32_t version = 0;  ///< bumped on every change; append-only changes stay readable
  std::uint64_t fingerprint = 0;
  std::size_t size = 0;         ///< sizeof the snapshot type
  std::string_view descriptor;  ///< JSON, format above
};

/// A type shmsnap can publish: copyable as bytes, no pointers worth following, and
/// carrying `static constexpr shmsnap::SchemaInfo shmsnap_schema`.
template <class T>
concept Snapshot = std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T> && requires {
  { T::shmsnap_schema } -> std::convertible_to<const SchemaInfo&>;
};

/// True for a snapshot type with a bounded sequence: shmsnap-schemac generates the
/// member `shmsnap_used_bytes()` for a schema whose last field has a `count_field`.
template <class T>
concept HasUsedBytes = requires(const T& value) {
  { value.shmsnap_used_bytes() }
  noexcept->std::convertible_to<std::size_t>;
};

/// Bytes of `value` a publish must copy: for a type with a bounded sequence, the
/// fields before it and its elements in use (offsetof(last) + min(count, capacity) x
/// element size); sizeof(T) for any other type. Never more than sizeof(T), even for a
/// hand-written member that claims more. Callable from any thread; allocation-free.
template <class T>
[[nodiscard]] constexpr std::size_t used_bytes(const T& value) noexcept {
  if constexpr (HasUsedBytes<T>) {
    const std::size_t used = value.shmsnap_used_bytes();
    return used < sizeof(T) ? used : sizeof(T);
  } else {
    return sizeof(T);
  }
}

/// Why a reader built against `reader_descriptor` must not read a region written
/// with `writer_descriptor`, or an empty string when it may. A writer whose layout
/// starts with every field of the reader's (same names, types, offsets, sizes; only
/// fields appended) is compatible: the reader copies its prefix. The reason names
/// both schemas with their versions and the first field that differs.
[[nodiscard]] std::string schema_incompatibility(std::string_view reader_descriptor,
                                                 std::string_view writer_descriptor);

/// The canonical layout text of a descriptor (schemas/README.md, "Fingerprint"),
/// rebuilt from its fields: what shmsnap-schemac --print-layout prints for the schema.
/// Throws Error{Errc::invalid_region} for a malformed descriptor, one without "align"
/// on every struct, or one with names outside letters, digits, '_' ('.' in the schema
/// name), which have no unambiguous text.
[[nodiscard]] std::string descriptor_canonical_layout(std::string_view descriptor_json);

/// The fingerprint recomputed from a descriptor's layout (FNV-1a of
/// descriptor_canonical_layout()), equal to the compiler's for any compiled schema.
/// Throws like descriptor_canonical_layout(). Every descriptor parse already refuses
/// one whose own "fingerprint" disagrees; use this for a fingerprint carried beside
/// the descriptor (a recording's channel, a bridge schema record).
[[nodiscard]] std::uint64_t descriptor_fingerprint(std::string_view descriptor_json);

/// Why `schema.fingerprint` must not be trusted for `schema.descriptor` (it is not
/// the fingerprint the descriptor's layout hashes to, naming both), or an empty string
/// when it may. Readers that compare fingerprints only copy bytes as their own type,
/// so an untyped publisher fed from outside (replay, bridge import) checks this first.
[[nodiscard]] std::string schema_fingerprint_mismatch(const SchemaInfo& schema);

}  // namespace shmsnap
