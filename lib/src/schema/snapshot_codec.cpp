// The JSON codec of shmsnap/schema_json.hpp: snapshot bytes <-> JSON by walking a
// validated descriptor plan (descriptor_parser.cpp). A SnapshotCodec is immutable.
#include "shmsnap/schema_json.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "schema/schema_descriptor.hpp"
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
JsonT float_json(double value) {
  if (std::isnan(value))
    return "NaN";
  if (std::isinf(value))
    return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

template <class JsonT>
class Decoder {
 public:
  JsonT decode_struct(const StructPlan& plan, const std::byte* base) const {
    JsonT object = JsonT::object();
    for (const FieldPlan& field : plan.fields)
      object[field.name] = decode_field(field, base + field.offset);
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
        return float_json<JsonT>(static_cast<double>(load<float>(p)));
      case ElementType::f64:
        return float_json<JsonT>(load<double>(p));
      case ElementType::character:
        return text_of(p, static_cast<std::size_t>(field.length));
      case ElementType::structure:
        return decode_struct(*field.structure, p);
      case ElementType::enumeration: {
        const auto& plan = *field.enumeration;
        const std::uint64_t bits = load_bits(plan.underlying, p);
        for (const auto& [value, name] : plan.values) {
          if (value == bits)
            return name;
        }
        FieldPlan raw;
        raw.type = plan.underlying;
        return decode_element(raw, p);
      }
    }
    return nullptr;
  }
};

class Encoder {
 public:
  void encode_struct(const StructPlan& plan, const nlohmann::json& value, std::byte* base,
                     const std::string& path) const {
    if (!value.is_object())
      fail(path, "expected an object");
    for (const auto& item : value.items()) {
      const std::string& key = item.key();
      const auto it =
          std::find_if(plan.fields.begin(), plan.fields.end(), [&](const FieldPlan& f) { return f.name == key; });
      if (it == plan.fields.end())
        fail(path, "unknown field '" + key + "'");
    }
    for (const FieldPlan& field : plan.fields) {
      const auto it = value.find(field.name);
      if (it == value.end())
        continue;  // stays zero
      const std::string field_path = path.empty() ? field.name : path + "." + field.name;
      encode_field(field, *it, base + field.offset, field_path);
    }
  }

 private:
  [[noreturn]] static void fail(const std::string& path, const std::string& why) {
    throw Error(Errc::invalid_argument,
                "cannot encode snapshot: " + (path.empty() ? std::string("top level") : path) + ": " + why);
  }

  void encode_field(const FieldPlan& field, const nlohmann::json& value, std::byte* p, const std::string& path) const {
    if (!field.is_array)
      return encode_element(field, value, p, path);
    if (field.dims.empty())
      return encode_dimension(field, value, p, {field.count}, 0, path);
    encode_dimension(field, value, p, field.dims, 0, path);
  }

  void encode_dimension(const FieldPlan& field, const nlohmann::json& value, std::byte* p,
                        const std::vector<std::uint64_t>& dims, std::size_t level, const std::string& path) const {
    if (!value.is_array() || value.size() != dims[level]) {
      fail(path, "expected an array of " + std::to_string(dims[level]) + " elements");
    }
    std::uint64_t stride = field.element_size;
    for (std::size_t i = level + 1; i < dims.size(); ++i)
      stride *= dims[i];
    for (std::uint64_t i = 0; i < dims[level]; ++i) {
      const std::string element_path = path + "[" + std::to_string(i) + "]";
      const auto& element = value[static_cast<std::size_t>(i)];
      if (level + 1 == dims.size()) {
        encode_element(field, element, p + i * stride, element_path);
      } else {
        encode_dimension(field, element, p + i * stride, dims, level + 1, element_path);
      }
    }
  }

  template <class T>
  static void store(std::byte* p, T value) {
    std::memcpy(p, &value, sizeof value);
  }

  static void encode_integer(ElementType type, const nlohmann::json& value, std::byte* p, const std::string& path) {
    if (!value.is_number_integer())
      fail(path, "expected an integer");
    const std::uint64_t bits = detail::element_type_size(type) * 8;
    const bool is_signed = is_signed_type(type);
    const auto out_of_range = [&](const std::string& shown) {
      fail(path, shown + " is out of range for " + std::string(detail::element_type_name(type)));
    };
    // nlohmann stores non-negative literals as signed or unsigned depending on where
    // they came from, so judge by sign, not by storage.
    if (value.is_number_unsigned() || value.get<std::int64_t>() >= 0) {
      const auto v = value.get<std::uint64_t>();
      const std::uint64_t max =
          (bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1) >> (is_signed ? 1 : 0);
      if (v > max)
        out_of_range(std::to_string(v));
      store_bits(type, p, v);
    } else {
      const auto v = value.get<std::int64_t>();
      const std::int64_t min = !is_signed   ? 0
                               : bits == 64 ? std::numeric_limits<std::int64_t>::min()
                                            : -(std::int64_t{1} << (bits - 1));
      if (v < min)
        out_of_range(std::to_string(v));
      store_bits(type, p, static_cast<std::uint64_t>(v));
    }
  }

  static bool is_signed_type(ElementType type) { return type >= ElementType::i8 && type <= ElementType::i64; }

  static void store_bits(ElementType type, std::byte* p, std::uint64_t bits) {
    switch (detail::element_type_size(type)) {
      case 1:
        store(p, static_cast<std::uint8_t>(bits));
        break;
      case 2:
        store(p, static_cast<std::uint16_t>(bits));
        break;
      case 4:
        store(p, static_cast<std::uint32_t>(bits));
        break;
      default:
        store(p, bits);
        break;
    }
  }

  static double float_value(const nlohmann::json& value, const std::string& path) {
    if (value.is_number())
      return value.get<double>();
    if (value.is_string()) {
      const auto& text = value.get_ref<const std::string&>();
      if (text == "NaN")
        return std::numeric_limits<double>::quiet_NaN();
      if (text == "Infinity")
        return std::numeric_limits<double>::infinity();
      if (text == "-Infinity")
        return -std::numeric_limits<double>::infinity();
    }
    fail(path, "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
  }

  void encode_element(const FieldPlan& field, const nlohmann::json& value, std::byte* p,
                      const std::string& path) const {
    switch (field.type) {
      case ElementType::boolean:
        if (!value.is_boolean())
          fail(path, "expected true or false");
        store(p, static_cast<std::uint8_t>(value.get<bool>() ? 1 : 0));
        return;
      case ElementType::f32:
        store(p, static_cast<float>(float_value(value, path)));
        return;
      case ElementType::f64:
        store(p, float_value(value, path));
        return;
      case ElementType::character: {
        if (!value.is_string())
          fail(path, "expected a string");
        const auto& text = value.get_ref<const std::string&>();
        if (text.size() > field.length) {
          fail(path, "the string is " + std::to_string(text.size()) + " bytes; char[" + std::to_string(field.length) +
                         "] holds at most " + std::to_string(field.length));
        }
        std::memcpy(p, text.data(), text.size());
        return;
      }
      case ElementType::structure:
        encode_struct(*field.structure, value, p, path);
        return;
      case ElementType::enumeration: {
        const auto& plan = *field.enumeration;
        if (value.is_string()) {
          const auto& text = value.get_ref<const std::string&>();
          for (const auto& [bits, name] : plan.values) {
            if (name == text)
              return store_bits(plan.underlying, p, bits);
          }
          fail(path, "'" + text + "' is not a value of enum " + plan.name);
        }
        return encode_integer(plan.underlying, value, p, path);
      }
      default:
        return encode_integer(field.type, value, p, path);
    }
  }
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

namespace {

void require_bytes(const detail::DescriptorPlan& plan, std::span<const std::byte> bytes) {
  if (bytes.size() < plan.root.size) {
    throw Error(Errc::invalid_argument,
                "cannot decode a snapshot of " + plan.name + " v" + std::to_string(plan.version) + ": it needs " +
                    std::to_string(plan.root.size) + " bytes but " + std::to_string(bytes.size()) + " were given");
  }
}

}  // namespace

nlohmann::json SnapshotCodec::decode(std::span<const std::byte> bytes) const {
  require_bytes(*plan_, bytes);
  return Decoder<nlohmann::json>().decode_struct(plan_->root, bytes.data());
}

nlohmann::ordered_json SnapshotCodec::decode_ordered(std::span<const std::byte> bytes) const {
  require_bytes(*plan_, bytes);
  return Decoder<nlohmann::ordered_json>().decode_struct(plan_->root, bytes.data());
}

std::vector<std::byte> SnapshotCodec::encode(const nlohmann::json& value) const {
  std::vector<std::byte> bytes(static_cast<std::size_t>(plan_->root.size));
  Encoder().encode_struct(plan_->root, value, bytes.data(), "");
  return bytes;
}

nlohmann::json decode_snapshot(std::string_view descriptor_json, std::span<const std::byte> bytes) {
  return SnapshotCodec(descriptor_json).decode(bytes);
}

std::vector<std::byte> encode_snapshot(std::string_view descriptor_json, const nlohmann::json& value) {
  return SnapshotCodec(descriptor_json).encode(value);
}

}  // namespace shmsnap
