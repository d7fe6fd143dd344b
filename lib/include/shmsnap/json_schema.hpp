// A JSON Schema for the JSON that SnapshotCodec produces, so tools that store or
// show snapshots as JSON (MCAP recordings for Foxglove Studio, web UIs) can describe
// them to schema-aware readers. Setup-time API: it allocates and throws
// shmsnap::Error; a pure function, callable from any thread.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace shmsnap {

/// A JSON Schema (draft 2020-12 / draft-07 compatible) describing the JSON that
/// SnapshotCodec::decode produces for this descriptor: a struct is an object keyed by
/// field name with every field required and no others; an array has exactly its
/// length (nested for multi-dimensional ones); bool is a boolean; an integer is bounded
/// by its type; a float is a number or one of "NaN", "Infinity", "-Infinity"; char[N]
/// is a string of at most N characters; an enum is one of its names or an integer of
/// its underlying type. Throws Error{Errc::invalid_region} for a malformed descriptor,
/// like SnapshotCodec.
[[nodiscard]] nlohmann::json json_schema_from_descriptor(std::string_view descriptor_json);

}  // namespace shmsnap
