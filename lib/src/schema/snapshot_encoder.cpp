// JSON -> snapshot bytes by walking a validated descriptor plan: every value is
// checked against its field (type, range, array shape, string length) and a bad
// one is refused with the path of the field, so nothing half-checked is written.
#include "schema/snapshot_encoder.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "shmsnap/error.hpp"

namespace shmsnap::detail {
namespace {

class Encoder {
 public:
  // `sequence` is the snapshot's bounded sequence (top level only): its JSON array
  // may be shorter than the capacity, and its length becomes the count.
  void encode_struct(const StructPlan& plan, const nlohmann::json& value, std::byte* base, const std::string& path,
                     const BoundedSequence* sequence = nullptr) const {
    if (!value.is_object())
      fail(path, "expected an object");
    for (const auto& item : value.items()) {
      if (plan.field_named(item.key()) == nullptr)
        fail(path, "unknown field '" + item.key() + "'");
    }
    for (std::size_t i = 0; i < plan.fields.size(); ++i) {
      const FieldPlan& field = plan.fields[i];
      const auto it = value.find(field.name);
      if (it == value.end())
        continue;  // stays zero
      const std::string field_path = path.empty() ? field.name : path + "." + field.name;
      if (sequence != nullptr && i == sequence->field) {
        encode_sequence(field, *it, base + field.offset, field_path);
      } else {
        encode_field(field, *it, base + field.offset, field_path);
      }
    }
    if (sequence != nullptr)
      settle_count(plan, value, base, *sequence);
  }

 private:
  void encode_sequence(const FieldPlan& field, const nlohmann::json& value, std::byte* p,
                       const std::string& path) const {
    if (!value.is_array() || value.size() > field.count) {
      fail(path, "expected an array of at most " + std::to_string(field.count) +
                     " elements (a bounded sequence: its length is the count)");
    }
    for (std::size_t i = 0; i < value.size(); ++i)
      encode_element(field, value[i], p + i * field.element_size, path + "[" + std::to_string(i) + "]");
  }

  // The count field says how many elements are in use: the array's length when the
  // array is given (a count given too must agree), else the count given, which must
  // not exceed the capacity.
  static void settle_count(const StructPlan& plan, const nlohmann::json& value, std::byte* base,
                           const BoundedSequence& sequence) {
    const FieldPlan& field = plan.fields[sequence.field];
    const FieldPlan& count = plan.fields[sequence.count_field];
    const std::uint64_t stored = load_count(count.type, base + count.offset);
    const auto array = value.find(field.name);
    if (array == value.end()) {
      if (stored > field.count) {
        fail(count.name, "the count " + std::to_string(stored) + " exceeds the capacity of '" + field.name + "' (" +
                             std::to_string(field.count) + " elements)");
      }
      return;
    }
    const std::uint64_t length = array->size();
    if (value.contains(count.name) && stored != length) {
      fail(count.name, "the count " + std::to_string(stored) + " disagrees with the " + std::to_string(length) +
                           " elements of '" + field.name + "'; give one of them or make them agree");
    }
    const std::uint64_t bits = element_type_size(count.type) * 8;
    if (bits < 64 && length > (std::uint64_t{1} << bits) - 1) {
      fail(count.name, std::to_string(length) + " elements of '" + field.name + "' do not fit the count's type " +
                           std::string(element_type_name(count.type)));
    }
    store_bits(count.type, base + count.offset, length);
  }

  static std::uint64_t load_count(ElementType type, const std::byte* p) {
    switch (element_type_size(type)) {
      case 1:
        return load<std::uint8_t>(p);
      case 2:
        return load<std::uint16_t>(p);
      case 4:
        return load<std::uint32_t>(p);
      default:
        return load<std::uint64_t>(p);
    }
  }

  template <class T>
  static std::uint64_t load(const std::byte* p) {
    T value;
    std::memcpy(&value, p, sizeof value);
    return value;
  }

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
    const std::uint64_t bits = element_type_size(type) * 8;
    const bool is_signed = is_signed_type(type);
    const auto out_of_range = [&](const std::string& shown) {
      fail(path, shown + " is out of range for " + std::string(element_type_name(type)));
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
    switch (element_type_size(type)) {
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

  // A finite double that rounds past FLT_MAX would be stored as infinity, a value
  // the caller never wrote: refused. From 2^128 - 2^103 (FLT_MAX plus half its last
  // step) on, round-to-nearest gives infinity; below, the nearest float is finite.
  // NaN and the infinities given as such stay what they are.
  static float f32_value(const nlohmann::json& value, const std::string& path) {
    const double number = float_value(value, path);
    if (std::isfinite(number) && std::fabs(number) >= 0x1.ffffffp+127) {
      char shown[32];
      std::snprintf(shown, sizeof shown, "%.17g", number);
      fail(path, std::string(shown) + " is out of range for f32 (finite values are at most " +
                     std::to_string(std::numeric_limits<float>::max()) +
                     " in magnitude; write \"Infinity\" or \"-Infinity\" for infinity)");
    }
    return static_cast<float>(number);
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
        store(p, f32_value(value, path));
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
          if (const auto bits = plan.value_of(text))
            return store_bits(plan.underlying, p, *bits);
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

void encode_snapshot_into(const DescriptorPlan& plan, const nlohmann::json& value, std::byte* out) {
  Encoder().encode_struct(plan.root, value, out, "", plan.sequence ? &*plan.sequence : nullptr);
}

}  // namespace shmsnap::detail
