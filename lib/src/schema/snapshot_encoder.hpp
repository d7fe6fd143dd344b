// JSON -> snapshot bytes for SnapshotCodec::encode (snapshot_encoder.cpp).
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

#include "schema/schema_descriptor.hpp"

namespace shmsnap::detail {

/// Writes `value` into `out` (plan.size bytes, zeroed: absent fields stay zero).
/// Throws Error{invalid_argument} naming the field path of the first bad value.
void encode_struct_into(const StructPlan& plan, const nlohmann::json& value, std::byte* out);

}  // namespace shmsnap::detail
