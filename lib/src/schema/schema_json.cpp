// Schema descriptors: parsing and validation (shared with schema_compat.cpp through
// schema_descriptor.hpp), and the JSON codec of shmsnap/schema_json.hpp. Everything
// read from a descriptor is checked before it is trusted: these bytes come from a
// shared-memory region that any process with write access may have scribbled on.
#include "shmsnap/schema_json.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include "schema/schema_descriptor.hpp"
#include "shmsnap/error.hpp"

namespace shmsnap {

namespace detail {

namespace {

using Json = nlohmann::json;

struct TypeEntry {
  std::string_view name;
  ElementType type;
  std::uint64_t size;  // 0: decided by the field (char, struct, enum)
};

constexpr std::array<TypeEntry, 14> type_table{{
    {"bool", ElementType::boolean, 1},
    {"i8", ElementType::i8, 1},
    {"i16", ElementType::i16, 2},
    {"i32", ElementType::i32, 4},
    {"i64", ElementType::i64, 8},
    {"u8", ElementType::u8, 1},
    {"u16", ElementType::u16, 2},
    {"u32", ElementType::u32, 4},
    {"u64", ElementType::u64, 8},
    {"f32", ElementType::f32, 4},
    {"f64", ElementType::f64, 8},
    {"char", ElementType::character, 0},
    {"struct", ElementType::structure, 0},
    {"enum", ElementType::enumeration, 0},
}};

std::uint64_t scalar_size(ElementType type) {
  return type_table[static_cast<std::size_t>(type)].size;
}

bool is_integer(ElementType type) {
  return type >= ElementType::i8 && type <= ElementType::u64;
}

bool is_signed(ElementType type) {
  return type >= ElementType::i8 && type <= ElementType::i64;
}

// Keeps names printable and short in messages: they come from untrusted bytes.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (text.size() > 64)
    out += "...";
  return out;
}

class DescriptorParser {
 public:
  DescriptorPlan run(std::string_view text) {
    Json root;
    try {
      root = Json::parse(text);
    } catch (const Json::exception& e) {
      fail("", std::string("not JSON: ") + e.what());
    }
    if (!root.is_object())
      fail("", "the descriptor must be a JSON object");
    DescriptorPlan plan;
    plan.name = string_member(root, "name", "");
    schema_name_ = plan.name;
    plan.version =
        static_cast<std::uint32_t>(unsigned_member(root, "version", "", std::numeric_limits<std::uint32_t>::max()));
    plan.root = parse_struct(root, "", 0);
    plan.root.name = plan.name;
    return plan;
  }

 private:
  [[noreturn]] void fail(const std::string& path, const std::string& why) const {
    std::string message = "invalid schema descriptor";
    if (!schema_name_.empty())
      message += " of '" + printable(schema_name_) + "'";
    message += ": ";
    if (!path.empty())
      message += path + ": ";
    message += why +
               " (the region was written by an incompatible shmsnap, or is corrupt; restart its publisher "
               "with a current build)";
    throw Error(Errc::invalid_region, message);
  }

  const Json& member(const Json& object, const char* key, const std::string& path) const {
    const auto it = object.find(key);
    if (it == object.end())
      fail(path, std::string("missing \"") + key + "\"");
    return *it;
  }

  std::string string_member(const Json& object, const char* key, const std::string& path) const {
    const Json& value = member(object, key, path);
    if (!value.is_string())
      fail(path, std::string("\"") + key + "\" must be a string");
    const auto& text = value.get_ref<const std::string&>();
    if (text.empty() || text.size() > descriptor_max_name) {
      fail(path, std::string("\"") + key + "\" must be 1.." + std::to_string(descriptor_max_name) + " bytes long");
    }
    return text;
  }

  std::uint64_t unsigned_value(const Json& value, const std::string& what, const std::string& path,
                               std::uint64_t max) const {
    if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<std::int64_t>() >= 0)) {
      fail(path, what + " must be a non-negative integer");
    }
    const auto number = value.get<std::uint64_t>();
    if (number > max)
      fail(path, what + " " + std::to_string(number) + " exceeds " + std::to_string(max));
    return number;
  }

  std::uint64_t unsigned_member(const Json& object, const char* key, const std::string& path, std::uint64_t max) const {
    return unsigned_value(member(object, key, path), std::string("\"") + key + "\"", path, max);
  }

  StructPlan parse_struct(const Json& object, const std::string& path, std::size_t depth) {
    if (depth >= descriptor_max_depth)
      fail(path, "structs nest deeper than " + std::to_string(descriptor_max_depth));
    StructPlan plan;
    plan.size = unsigned_member(object, "size", path, descriptor_max_size);
    if (plan.size == 0)
      fail(path, "\"size\" must be at least 1");
    if (const auto it = object.find("align"); it != object.end()) {
      plan.align = unsigned_value(*it, "\"align\"", path, 4096);
      if (plan.align == 0 || (plan.align & (plan.align - 1)) != 0)
        fail(path, "\"align\" must be a power of two");
    }
    const Json& fields = member(object, "fields", path);
    if (!fields.is_array())
      fail(path, "\"fields\" must be an array");
    std::set<std::string, std::less<>> names;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> extents;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (++total_fields_ > descriptor_max_fields)
        fail(path, "more than " + std::to_string(descriptor_max_fields) + " fields");
      const std::string field_path = (path.empty() ? "" : path + ".") + "fields[" + std::to_string(i) + "]";
      FieldPlan field = parse_field(fields[i], field_path, depth);
      const std::string named = field_path + " ('" + printable(field.name) + "')";
      if (field.offset > plan.size || field.size > plan.size - field.offset) {
        fail(named, "offset " + std::to_string(field.offset) + " + size " + std::to_string(field.size) +
                        " runs past the end of its struct (" + std::to_string(plan.size) + " bytes)");
      }
      if (!names.insert(field.name).second)
        fail(named, "duplicate field name");
      extents.emplace_back(field.offset, field.offset + field.size);
      plan.fields.push_back(std::move(field));
    }
    // Overlapping fields would let a small descriptor make decode produce output far
    // larger than the snapshot; a real layout never has them.
    std::sort(extents.begin(), extents.end());
    for (std::size_t i = 1; i < extents.size(); ++i) {
      if (extents[i].first < extents[i - 1].second) {
        fail(path.empty() ? "fields" : path + ".fields",
             "two fields overlap at offset " + std::to_string(extents[i].first));
      }
    }
    return plan;
  }

  FieldPlan parse_field(const Json& object, const std::string& path, std::size_t depth) {
    if (!object.is_object())
      fail(path, "a field must be a JSON object");
    FieldPlan field;
    field.name = string_member(object, "name", path);
    const std::string named = path + " ('" + printable(field.name) + "')";
    const std::string type_name = string_member(object, "type", named);
    const auto entry =
        std::find_if(type_table.begin(), type_table.end(), [&](const TypeEntry& e) { return e.name == type_name; });
    if (entry == type_table.end())
      fail(named, "unknown type \"" + printable(type_name) + "\"");
    field.type = entry->type;
    field.offset = unsigned_member(object, "offset", named, descriptor_max_size);
    field.size = unsigned_member(object, "size", named, descriptor_max_size);
    if (const auto it = object.find("count"); it != object.end()) {
      field.is_array = true;
      field.count = unsigned_value(*it, "\"count\"", named, descriptor_max_size);
      if (field.count == 0)
        fail(named, "\"count\" must be at least 1");
    }
    if (const auto it = object.find("dims"); it != object.end()) {
      if (!field.is_array)
        fail(named, "\"dims\" without \"count\"");
      if (!it->is_array() || it->empty() || it->size() > descriptor_max_dims) {
        fail(named, "\"dims\" must be an array of 1.." + std::to_string(descriptor_max_dims) + " lengths");
      }
      std::uint64_t product = 1;
      for (const Json& dim : *it) {
        const std::uint64_t length = unsigned_value(dim, "a dimension", named, descriptor_max_size);
        if (length == 0)
          fail(named, "a dimension must be at least 1");
        product *= length;  // both factors <= 2^32 and checked below before the next step
        if (product > field.count)
          fail(named, "\"dims\" multiply to more than \"count\"");
        field.dims.push_back(length);
      }
      if (product != field.count)
        fail(named, "\"dims\" multiply to " + std::to_string(product) + ", not \"count\"");
    }
    switch (field.type) {
      case ElementType::character:
        field.length = unsigned_member(object, "length", named, descriptor_max_size);
        if (field.length == 0)
          fail(named, "\"length\" must be at least 1");
        field.element_size = field.length;
        break;
      case ElementType::structure: {
        const Json& nested = member(object, "struct", named);
        if (!nested.is_object())
          fail(named, "\"struct\" must be an object");
        auto plan = std::make_shared<StructPlan>(parse_struct(nested, named + ".struct", depth + 1));
        plan->name = string_member(nested, "name", named + ".struct");
        field.element_size = plan->size;
        field.structure = std::move(plan);
        break;
      }
      case ElementType::enumeration:
        field.enumeration = parse_enum(member(object, "enum", named), named + ".enum");
        field.element_size = scalar_size(field.enumeration->underlying);
        break;
      default:
        field.element_size = scalar_size(field.type);
        break;
    }
    // Both factors are at most 2^32, so the product cannot overflow 64 bits.
    if (field.element_size * field.count != field.size) {
      fail(named, "\"size\" " + std::to_string(field.size) + " is not " + std::to_string(field.count) + " x " +
                      std::to_string(field.element_size) + " bytes");
    }
    return field;
  }

  std::shared_ptr<const EnumPlan> parse_enum(const Json& object, const std::string& path) {
    if (!object.is_object())
      fail(path, "must be an object");
    auto plan = std::make_shared<EnumPlan>();
    plan->name = string_member(object, "name", path);
    const std::string underlying = string_member(object, "underlying", path);
    const auto entry =
        std::find_if(type_table.begin(), type_table.end(), [&](const TypeEntry& e) { return e.name == underlying; });
    if (entry == type_table.end() || !is_integer(entry->type)) {
      fail(path, "\"underlying\" must be one of i8..i64, u8..u64");
    }
    plan->underlying = entry->type;
    const Json& values = member(object, "values", path);
    if (!values.is_array())
      fail(path, "\"values\" must be an array");
    const std::uint64_t bits = scalar_size(plan->underlying) * 8;
    const std::uint64_t mask = bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::string value_path = path + ".values[" + std::to_string(i) + "]";
      if (++total_fields_ > descriptor_max_fields)
        fail(path, "too many values");
      if (!values[i].is_object())
        fail(value_path, "must be an object");
      std::string value_name = string_member(values[i], "name", value_path);
      const Json& number = member(values[i], "value", value_path);
      std::uint64_t pattern = 0;
      if (number.is_number_unsigned()) {
        const auto v = number.get<std::uint64_t>();
        const std::uint64_t max = is_signed(plan->underlying) ? mask >> 1 : mask;
        if (v > max)
          fail(value_path, "value " + std::to_string(v) + " does not fit " + underlying);
        pattern = v;
      } else if (number.is_number_integer()) {
        const auto v = number.get<std::int64_t>();
        const std::int64_t min =
            bits == 64 ? std::numeric_limits<std::int64_t>::min() : -(std::int64_t{1} << (bits - 1));
        if (!is_signed(plan->underlying) || v < min) {
          fail(value_path, "value " + std::to_string(v) + " does not fit " + underlying);
        }
        pattern = static_cast<std::uint64_t>(v) & mask;
      } else {
        fail(value_path, "\"value\" must be an integer");
      }
      plan->values.emplace_back(pattern, std::move(value_name));
    }
    return plan;
  }

  std::string schema_name_;
  std::size_t total_fields_ = 0;
};

}  // namespace

std::string_view element_type_name(ElementType type) noexcept {
  return type_table[static_cast<std::size_t>(type)].name;
}

std::uint64_t element_type_size(ElementType type) noexcept {
  return scalar_size(type);
}

DescriptorPlan parse_descriptor(std::string_view descriptor_json) {
  return DescriptorParser().run(descriptor_json);
}

std::string describe_type(const FieldPlan& field) {
  std::string out;
  switch (field.type) {
    case ElementType::structure:
      out = "struct " + printable(field.structure->name);
      break;
    case ElementType::enumeration:
      out = "enum " + printable(field.enumeration->name) + " : " +
            std::string(element_type_name(field.enumeration->underlying));
      break;
    default:
      out = std::string(element_type_name(field.type));
      break;
  }
  if (!field.dims.empty()) {
    for (const auto dim : field.dims)
      out += "[" + std::to_string(dim) + "]";
  } else if (field.is_array) {
    out += "[" + std::to_string(field.count) + "]";
  }
  if (field.type == ElementType::character)
    out += "[" + std::to_string(field.length) + "]";
  return out;
}

}  // namespace detail

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
