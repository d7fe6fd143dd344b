// The JSON codec of shmsnap/schema_json.hpp: snapshot bytes -> JSON by walking a
// validated descriptor plan (descriptor_parser.cpp); JSON -> bytes is
// snapshot_encoder.cpp. A SnapshotCodec is immutable.
#include "shmsnap/schema_json.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "schema/schema_descriptor.hpp"
#include "schema/snapshot_encoder.hpp"
#include "shmsnap/error.hpp"

namespace shmsnap {

namespace {

using detail::ElementType;
using detail::FieldPlan;
using detail::StructPlan;

// Copies `length` bytes up to the first NUL, replacing every byte that is not part of
// well-formed UTF-8 with U+FFFD: nlohmann::json refuses to dump invalid UTF-8.
std::string text_of(const std::byte* data, std::size_t length) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  std::size_t end = 0;
  while (end < length && bytes[end] != 0)
    ++end;
  std::string out;
  out.reserve(end);
  std::size_t i = 0;
  while (i < end) {
    const unsigned char c = bytes[i];
    std::size_t need = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    // Well-formed sequences per Unicode Table 3-7: no overlongs, no surrogates, <= U+10FFFF.
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c == 0xe0)
        low = 0xa0;
      if (c == 0xed)
        high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c == 0xf0)
        low = 0x90;
      if (c == 0xf4)
        high = 0x8f;
    }
    bool good = need > 0 && i + need < end;
    for (std::size_t k = 1; good && k <= need; ++k) {
      const unsigned char next = bytes[i + k];
      good = k == 1 ? (next >= low && next <= high) : (next >= 0x80 && next <= 0xbf);
    }
    if (good) {
      out.append(reinterpret_cast<const char*>(bytes + i), need + 1);
      i += need + 1;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

template <class T>
T load(const std::byte* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

std::uint64_t load_bits(ElementType type, const std::byte* p) {
  switch (type) {
    case ElementType::i8:
    case ElementType::u8:
      return load<std::uint8_t>(p);
    case ElementType::i16:
    case ElementType::u16:
      return load<std::uint16_t>(p);
    case ElementType::i32:
    case ElementType::u32:
      return load<std::uint32_t>(p);
    default:
      return load<std::uint64_t>(p);
  }
}

template <class JsonT>
JsonT float_json(double value, SnapshotCodec::NonFinite non_finite) {
  if (non_finite == SnapshotCodec::NonFinite::as_numbers)
    return value;
  if (std::isnan(value))
    return "NaN";
  if (std::isinf(value))
    return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

template <class JsonT>
class Decoder {
 public:
  explicit Decoder(SnapshotCodec::NonFinite non_finite) : non_finite_(non_finite) {}

  JsonT decode_struct(const StructPlan& plan, const std::byte* base) const {
    JsonT object = JsonT::object();
    for (const FieldPlan& field : plan.fields)
      object[field.name] = decode_field(field, base + field.offset);
    return object;
  }

  // The snapshot itself: as decode_struct, except that a bounded sequence shows only
  // its elements in use and its count field says how many that is (the stored count
  // clamped to the capacity and to the `size` bytes given, which reach its offset).
  JsonT decode_root(const detail::DescriptorPlan& plan, const std::byte* base, std::size_t size) const {
    if (!plan.sequence)
      return decode_struct(plan.root, base);
    const std::uint64_t in_use = detail::elements_in_use(plan, base, size);
    JsonT object = JsonT::object();
    for (std::size_t i = 0; i < plan.root.fields.size(); ++i) {
      const FieldPlan& field = plan.root.fields[i];
      if (i == plan.sequence->count_field) {
        object[field.name] = in_use;
      } else if (i == plan.sequence->field) {
        JsonT array = JsonT::array();
        for (std::uint64_t k = 0; k < in_use; ++k)
          array.push_back(decode_element(field, base + field.offset + k * field.element_size));
        object[field.name] = std::move(array);
      } else {
        object[field.name] = decode_field(field, base + field.offset);
      }
    }
    return object;
  }

 private:
  JsonT decode_field(const FieldPlan& field, const std::byte* p) const {
    if (!field.is_array)
      return decode_element(field, p);
    if (field.dims.empty())
      return decode_dimension(field, p, {field.count}, 0);
    return decode_dimension(field, p, field.dims, 0);
  }

  JsonT decode_dimension(const FieldPlan& field, const std::byte* p, const std::vector<std::uint64_t>& dims,
                         std::size_t level) const {
    std::uint64_t stride = field.element_size;
    for (std::size_t i = level + 1; i < dims.size(); ++i)
      stride *= dims[i];
    JsonT array = JsonT::array();
    for (std::uint64_t i = 0; i < dims[level]; ++i) {
      const std::byte* at = p + i * stride;
      array.push_back(level + 1 == dims.size() ? decode_element(field, at)
                                               : decode_dimension(field, at, dims, level + 1));
    }
    return array;
  }

  JsonT decode_element(const FieldPlan& field, const std::byte* p) const {
    switch (field.type) {
      case ElementType::boolean:
        return load<std::uint8_t>(p) != 0;
      case ElementType::i8:
        return load<std::int8_t>(p);
      case ElementType::i16:
        return load<std::int16_t>(p);
      case ElementType::i32:
        return load<std::int32_t>(p);
      case ElementType::i64:
        return load<std::int64_t>(p);
      case ElementType::u8:
        return load<std::uint8_t>(p);
      case ElementType::u16:
        return load<std::uint16_t>(p);
      case ElementType::u32:
        return load<std::uint32_t>(p);
      case ElementType::u64:
        return load<std::uint64_t>(p);
      case ElementType::f32:
        return float_json<JsonT>(static_cast<double>(load<float>(p)), non_finite_);
      case ElementType::f64:
        return float_json<JsonT>(load<double>(p), non_finite_);
      case ElementType::character:
        return text_of(p, static_cast<std::size_t>(field.length));
      case ElementType::structure:
        return decode_struct(*field.structure, p);
      case ElementType::enumeration: {
        const auto& plan = *field.enumeration;
        if (const std::string* name = plan.name_of(load_bits(plan.underlying, p)))
          return *name;
        FieldPlan raw;
        raw.type = plan.underlying;
        return decode_element(raw, p);
      }
    }
    return nullptr;
  }

  SnapshotCodec::NonFinite non_finite_;
};

}  // namespace

SnapshotCodec::SnapshotCodec(std::string_view descriptor_json)
    : plan_(std::make_shared<const detail::DescriptorPlan>(detail::parse_descriptor(descriptor_json))) {}

const std::string& SnapshotCodec::name() const noexcept {
  return plan_->name;
}

std::uint32_t SnapshotCodec::version() const noexcept {
  return plan_->version;
}

std::size_t SnapshotCodec::size() const noexcept {
  return static_cast<std::size_t>(plan_->root.size);
}

std::size_t SnapshotCodec::min_size() const noexcept {
  if (plan_->sequence)
    return static_cast<std::size_t>(plan_->root.fields[plan_->sequence->field].offset);
  return size();
}

std::size_t SnapshotCodec::used_size(std::span<const std::byte> bytes) const noexcept {
  if (!plan_->sequence)
    return size();
  const std::size_t prefix = min_size();
  if (bytes.size() < prefix)
    return prefix;
  const detail::FieldPlan& sequence = plan_->root.fields[plan_->sequence->field];
  // <= the sequence's offset + its size <= 2^32: no overflow.
  return prefix +
         static_cast<std::size_t>(detail::elements_in_use(*plan_, bytes.data(), bytes.size()) * sequence.element_size);
}

namespace {

void require_bytes(const detail::DescriptorPlan& plan, std::size_t needed, std::span<const std::byte> bytes) {
  if (bytes.size() < needed) {
    throw Error(Errc::invalid_argument, "cannot decode a snapshot of " + plan.name + " v" +
                                            std::to_string(plan.version) + ": it needs " +
                                            (plan.sequence ? "at least " : "") + std::to_string(needed) +
                                            " bytes but " + std::to_string(bytes.size()) + " were given");
  }
}

// The bytes a decode may look at: the whole snapshot, or for a bounded sequence
// whatever was given up to the snapshot's size (a used prefix is enough).
std::size_t decodable(const detail::DescriptorPlan& plan, std::span<const std::byte> bytes) {
  return static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), plan.root.size));
}

}  // namespace

nlohmann::json SnapshotCodec::decode(std::span<const std::byte> bytes, NonFinite non_finite) const {
  require_bytes(*plan_, min_size(), bytes);
  return Decoder<nlohmann::json>(non_finite).decode_root(*plan_, bytes.data(), decodable(*plan_, bytes));
}

nlohmann::ordered_json SnapshotCodec::decode_ordered(std::span<const std::byte> bytes, NonFinite non_finite) const {
  require_bytes(*plan_, min_size(), bytes);
  return Decoder<nlohmann::ordered_json>(non_finite).decode_root(*plan_, bytes.data(), decodable(*plan_, bytes));
}

std::vector<std::byte> SnapshotCodec::encode(const nlohmann::json& value) const {
  std::vector<std::byte> bytes(static_cast<std::size_t>(plan_->root.size));
  detail::encode_snapshot_into(*plan_, value, bytes.data());
  return bytes;
}

namespace {

// Depth-first in layout order; the plan bounds the nesting (descriptor_max_depth) and
// the number of fields, so the walk and its output are bounded too.
void collect_notes(const StructPlan& plan, const std::string& prefix, nlohmann::ordered_json& out) {
  for (const FieldPlan& field : plan.fields) {
    const std::string path = prefix.empty() ? field.name : prefix + "." + field.name;
    if (!field.unit.empty() || !field.description.empty()) {
      nlohmann::ordered_json note = nlohmann::ordered_json::object();
      if (!field.unit.empty())
        note["unit"] = field.unit;
      if (!field.description.empty())
        note["description"] = field.description;
      out[path] = std::move(note);
    }
    if (field.structure)
      collect_notes(*field.structure, path, out);
  }
}

}  // namespace

nlohmann::ordered_json SnapshotCodec::field_notes() const {
  nlohmann::ordered_json notes = nlohmann::ordered_json::object();
  collect_notes(plan_->root, "", notes);
  return notes;
}

std::string SnapshotCodec::field_note_path(std::string_view value_path) {
  std::string out;
  out.reserve(value_path.size());
  for (std::size_t i = 0; i < value_path.size(); ++i) {
    if (value_path[i] == '[') {
      const std::size_t close = value_path.find(']', i);
      if (close != std::string_view::npos) {
        i = close;
        continue;
      }
    }
    out += value_path[i];
  }
  return out;
}

nlohmann::json decode_snapshot(std::string_view descriptor_json, std::span<const std::byte> bytes) {
  return SnapshotCodec(descriptor_json).decode(bytes);
}

std::vector<std::byte> encode_snapshot(std::string_view descriptor_json, const nlohmann::json& value) {
  return SnapshotCodec(descriptor_json).encode(value);
}

}  // namespace shmsnap
