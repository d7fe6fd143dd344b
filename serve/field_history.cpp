#include "field_history.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace shmsnap::serve {
namespace {

using Leaves = std::vector<std::pair<std::string, double>>;

// The scalar numeric leaves of a decoded value, in its order, at most max_fields.
// Arrays (a quote ladder, a matrix) are drawn from the current value, not kept.
void collect_leaves(const nlohmann::ordered_json& value, const std::string& path, Leaves& leaves) {
  if (leaves.size() >= FieldHistory::max_fields) {
    return;
  }
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      collect_leaves(member, path.empty() ? key : path + '.' + key, leaves);
    }
  } else if (value.is_number()) {
    leaves.emplace_back(path, value.get<double>());
  } else if (value.is_boolean()) {
    leaves.emplace_back(path, value.get<bool>() ? 1.0 : 0.0);
  }
}

constexpr std::int64_t ns_per_ms = 1'000'000;

std::int64_t bucket_width_ns() {
  return std::chrono::nanoseconds(FieldHistory::bucket_width).count();
}

nlohmann::ordered_json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

}  // namespace

FieldHistory::FieldHistory(std::chrono::milliseconds sample_period)
    : fine_capacity_(
          std::clamp<std::size_t>(static_cast<std::size_t>(std::chrono::milliseconds(fine_span).count() /
                                                           std::max<std::int64_t>(1, sample_period.count())) +
                                      1,
                                  60, 2400)) {}

void FieldHistory::reset(std::vector<std::string> fields) {
  fields_ = std::move(fields);
  fine_times_.clear();
  fine_values_.assign(fields_.size(), {});
  fine_next_ = 0;
  bucket_numbers_.assign(bucket_count, -1);
  buckets_.assign(fields_.size(), std::vector<Bucket>(bucket_count));
}

void FieldHistory::record(const nlohmann::ordered_json& value, std::int64_t monotonic_ns) {
  Leaves leaves;
  collect_leaves(value, "", leaves);
  const bool same_fields = leaves.size() == fields_.size() &&
                           std::equal(leaves.begin(), leaves.end(), fields_.begin(),
                                      [](const auto& leaf, const std::string& name) { return leaf.first == name; });
  if (!same_fields) {
    std::vector<std::string> names;
    names.reserve(leaves.size());
    for (const auto& leaf : leaves) {
      names.push_back(leaf.first);
    }
    reset(std::move(names));
  }
  if (fields_.empty()) {
    return;
  }

  // Fine ring: grows to its capacity, then overwrites the oldest point.
  const bool growing = fine_times_.size() < fine_capacity_;
  if (growing) {
    fine_times_.push_back(monotonic_ns);
  } else {
    fine_times_[fine_next_] = monotonic_ns;
  }
  for (std::size_t field = 0; field < fields_.size(); ++field) {
    if (growing) {
      fine_values_[field].push_back(leaves[field].second);
    } else {
      fine_values_[field][fine_next_] = leaves[field].second;
    }
  }
  fine_next_ = (fine_next_ + 1) % fine_capacity_;

  // Coarse ring: a slot whose bucket number is older than this one starts over.
  const std::int64_t number = std::max<std::int64_t>(0, monotonic_ns) / bucket_width_ns();
  const std::size_t slot = static_cast<std::size_t>(number) % bucket_count;
  const bool new_bucket = bucket_numbers_[slot] != number;
  bucket_numbers_[slot] = number;
  for (std::size_t field = 0; field < fields_.size(); ++field) {
    Bucket& bucket = buckets_[field][slot];
    if (new_bucket) {
      bucket = Bucket{};
    }
    const double sample = leaves[field].second;
    if (!std::isfinite(sample)) {
      continue;  // a NaN or infinity would poison the mean; the fine ring shows it as a gap
    }
    bucket.min = bucket.count == 0 ? sample : std::min(bucket.min, sample);
    bucket.max = bucket.count == 0 ? sample : std::max(bucket.max, sample);
    bucket.sum += sample;
    ++bucket.count;
  }
}

nlohmann::ordered_json FieldHistory::to_json(std::chrono::seconds window, std::int64_t now_monotonic_ns,
                                             std::int64_t realtime_offset_ns) const {
  window = std::clamp(window, std::chrono::seconds(1), longest_window);
  const std::int64_t since_ns = now_monotonic_ns - std::chrono::nanoseconds(window).count();
  const bool fine = window <= fine_span;
  auto wall_ms = [realtime_offset_ns](std::int64_t monotonic_ns) {
    return (monotonic_ns + realtime_offset_ns) / ns_per_ms;
  };

  nlohmann::ordered_json answer;
  answer["window_seconds"] = window.count();
  answer["resolution"] = fine ? "sample" : "bucket";
  answer["bucket_seconds"] = fine ? 0 : bucket_width.count();
  nlohmann::ordered_json fields = nlohmann::ordered_json::array();
  for (std::size_t field = 0; field < fields_.size(); ++field) {
    nlohmann::ordered_json points = nlohmann::ordered_json::array();
    if (fine) {
      // Oldest first: once full, the oldest point is where the next one goes.
      const std::size_t count = fine_times_.size();
      const std::size_t start = count < fine_capacity_ ? 0 : fine_next_;
      for (std::size_t step = 0; step < count; ++step) {
        const std::size_t index = (start + step) % count;
        if (fine_times_[index] >= since_ns) {
          points.push_back({wall_ms(fine_times_[index]), number_or_null(fine_values_[field][index])});
        }
      }
    } else {
      std::vector<std::size_t> slots;
      for (std::size_t slot = 0; slot < bucket_count; ++slot) {
        const std::int64_t number = bucket_numbers_[slot];
        if (number >= 0 && (number + 1) * bucket_width_ns() > since_ns && buckets_[field][slot].count > 0) {
          slots.push_back(slot);
        }
      }
      std::sort(slots.begin(), slots.end(),
                [this](std::size_t left, std::size_t right) { return bucket_numbers_[left] < bucket_numbers_[right]; });
      for (const std::size_t slot : slots) {
        const Bucket& bucket = buckets_[field][slot];
        // The bucket's middle, but never later than now (the current one is open).
        const std::int64_t middle =
            std::min(bucket_numbers_[slot] * bucket_width_ns() + bucket_width_ns() / 2, now_monotonic_ns);
        points.push_back({wall_ms(middle), bucket.sum / bucket.count, bucket.min, bucket.max});
      }
    }
    fields.push_back({{"field", fields_[field]}, {"points", std::move(points)}});
  }
  answer["fields"] = std::move(fields);
  return answer;
}

}  // namespace shmsnap::serve
