// JSON -> snapshot bytes for SnapshotCodec::encode (snapshot_encoder.cpp).
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

#include "schema/schema_descriptor.hpp"

namespace shmsnap::detail {

/// Writes `value` into `out` (plan.root.size bytes, zeroed: absent fields stay zero).
/// A bounded sequence takes 0..capacity elements and its count field is set to how
/// many (a count given too must agree). Throws Error{invalid_argument} naming the
/// field path of the first bad value.
void encode_snapshot_into(const DescriptorPlan& plan, const nlohmann::json& value, std::byte* out);

}  // namespace shmsnap::detail
