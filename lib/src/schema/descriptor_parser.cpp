// Schema descriptors parsed and validated into a plan (schema_descriptor.hpp), which
// the JSON codec (snapshot_codec.cpp) and the compatibility check walk. Everything
// read from a descriptor is checked before it is trusted: these bytes come from a
// shared-memory region that any process with write access may have scribbled on.
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "schema/schema_descriptor.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/printable.hpp"

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

template <class T>
std::uint64_t load_unsigned(const std::byte* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
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
    check_json_depth(text);
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
    plan.sequence = find_sequence(plan.root);
    if (const auto it = root.find("fingerprint"); it != root.end()) {
      plan.claimed_fingerprint = fingerprint_value(*it);
      verify_fingerprint(plan);
    }
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

  // nlohmann's parser is iterative, but copying or dumping what it built recurses, and
  // so do this parser and every walk of its plan. A plain scan of the text bounds the
  // nesting before anything is built; past the limit no descriptor can be valid anyway.
  void check_json_depth(std::string_view text) const {
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
      if (in_string) {
        if (escaped)
          escaped = false;
        else if (c == '\\')
          escaped = true;
        else if (c == '"')
          in_string = false;
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        if (++depth > descriptor_max_json_depth) {
          fail("", "JSON nests deeper than " + std::to_string(descriptor_max_json_depth) +
                       " levels (structs may nest at most " + std::to_string(descriptor_max_depth) + " deep)");
        }
      } else if ((c == '}' || c == ']') && depth > 0) {
        --depth;
      }
    }
  }

  // "0x" and 16 hex digits, as shmsnap-schemac writes it.
  std::uint64_t fingerprint_value(const Json& value) const {
    const std::string* text = value.is_string() ? &value.get_ref<const std::string&>() : nullptr;
    const auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    if (text == nullptr || text->size() != 18 || text->compare(0, 2, "0x") != 0 ||
        !std::all_of(text->begin() + 2, text->end(), hex)) {
      fail("", "\"fingerprint\" must be a string \"0x\" followed by 16 hex digits");
    }
    return std::stoull(text->substr(2), nullptr, 16);
  }

  // A fingerprint is taken on trust by readers that compare only fingerprints (a typed
  // subscriber copies the bytes as its own type), so a layout that does not hash to
  // the fingerprint it claims is refused rather than decoded differently from them.
  void verify_fingerprint(const DescriptorPlan& plan) const {
    std::string text;
    try {
      text = canonical_layout_text(plan);
    } catch (const Error& e) {
      fail("", std::string("its \"fingerprint\" cannot be checked: ") + e.what());
    }
    const std::uint64_t actual = fnv1a64(text);
    if (actual != *plan.claimed_fingerprint) {
      fail("", "\"fingerprint\" says " + hex64(*plan.claimed_fingerprint) + " but the layout it describes hashes to " +
                   hex64(actual) + " (a layout edited under another schema's fingerprint)");
    }
  }

  static std::string hex64(std::uint64_t value) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(value));
    return text;
  }

  // "unit" and "description" are optional; every view prints them next to values, so
  // text that could move a terminal's cursor or reorder a line is refused here.
  std::string note_member(const Json& object, const char* key, const std::string& path, std::size_t max) const {
    const auto it = object.find(key);
    if (it == object.end())
      return {};
    if (!it->is_string())
      fail(path, std::string("\"") + key + "\" must be a string");
    const auto& text = it->get_ref<const std::string&>();
    if (std::string why = note_text_problem(text, max); !why.empty())
      fail(path, std::string("\"") + key + "\" " + why);
    return text;
  }

  std::uint64_t unsigned_member(const Json& object, const char* key, const std::string& path, std::uint64_t max) const {
    return unsigned_value(member(object, key, path), std::string("\"") + key + "\"", path, max);
  }

  // The rules that make the bytes in use a prefix: the sequence is the last field and
  // every other field ends before it; its count is an earlier unsigned scalar. The
  // decoder clamps the count to the capacity and the bytes given, so these rules are
  // about meaning, not memory safety.
  std::optional<BoundedSequence> find_sequence(const StructPlan& root) const {
    std::optional<BoundedSequence> found;
    for (std::size_t i = 0; i < root.fields.size(); ++i) {
      const FieldPlan& field = root.fields[i];
      if (field.count_field.empty())
        continue;
      const std::string named = "fields[" + std::to_string(i) + "] ('" + printable(field.name) + "')";
      if (i + 1 != root.fields.size())
        fail(named, "\"count_field\" is only allowed on the last top-level field");
      if (!field.is_array || field.dims.size() > 1)
        fail(named, "a field with \"count_field\" must be a one-dimensional array");
      for (std::size_t k = 0; k < i; ++k) {
        if (root.fields[k].offset + root.fields[k].size > field.offset)  // both <= 2^32: no overflow
          fail(named, "field '" + printable(root.fields[k].name) + "' lies after the bounded sequence");
      }
      const FieldPlan* count = root.field_named(field.count_field);
      if (count == nullptr || count == &field) {
        fail(named, "\"count_field\" '" + printable(field.count_field) + "' is not an earlier top-level field");
      }
      if (count->is_array || count->type < ElementType::u8 || count->type > ElementType::u64) {
        fail(named, "\"count_field\" '" + printable(field.count_field) + "' is " + describe_type(*count) +
                        ", not an unsigned integer scalar (u8, u16, u32, u64)");
      }
      found = BoundedSequence{i, static_cast<std::size_t>(count - root.fields.data())};
    }
    return found;
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
      if (depth > 0 && !field.count_field.empty())
        fail(named, "\"count_field\" is only allowed on a top-level field, not inside a struct");
      if (field.offset > plan.size || field.size > plan.size - field.offset) {
        fail(named, "offset " + std::to_string(field.offset) + " + size " + std::to_string(field.size) +
                        " runs past the end of its struct (" + std::to_string(plan.size) + " bytes)");
      }
      if (!names.insert(field.name).second)
        fail(named, "duplicate field name");
      extents.emplace_back(field.offset, field.offset + field.size);  // <= plan.size: checked above
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
    plan.index();
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
        if (__builtin_mul_overflow(product, length, &product) || product > field.count)
          fail(named, "\"dims\" multiply to more than \"count\"");
        field.dims.push_back(length);
      }
      if (product != field.count)
        fail(named, "\"dims\" multiply to " + std::to_string(product) + ", not \"count\"");
    }
    if (object.contains("count_field"))
      field.count_field = string_member(object, "count_field", named);
    field.unit = note_member(object, "unit", named, descriptor_max_unit);
    field.description = note_member(object, "description", named, descriptor_max_description);
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
    // Each factor may be up to 2^32 (a char field's length times its count), so the
    // product may not fit 64 bits: checked, or 2^32 x 2^32 would wrap to a size of 0.
    std::uint64_t extent = 0;
    if (__builtin_mul_overflow(field.element_size, field.count, &extent) || extent > descriptor_max_size) {
      fail(named, std::to_string(field.count) + " x " + std::to_string(field.element_size) + " bytes exceeds " +
                      std::to_string(descriptor_max_size));
    }
    if (extent != field.size) {
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
    plan->index();
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

void EnumPlan::index() {
  by_value_.resize(values.size());
  by_name_.resize(values.size());
  for (std::uint32_t i = 0; i < values.size(); ++i)
    by_value_[i] = by_name_[i] = i;
  // Stable sorts keep descriptor order among equal keys: the first value wins, as
  // with the linear scan this replaces.
  std::stable_sort(by_value_.begin(), by_value_.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return values[a].first < values[b].first; });
  std::stable_sort(by_name_.begin(), by_name_.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return values[a].second < values[b].second; });
}

const std::string* EnumPlan::name_of(std::uint64_t bits) const noexcept {
  const auto it = std::lower_bound(by_value_.begin(), by_value_.end(), bits,
                                   [&](std::uint32_t i, std::uint64_t key) { return values[i].first < key; });
  return it != by_value_.end() && values[*it].first == bits ? &values[*it].second : nullptr;
}

std::optional<std::uint64_t> EnumPlan::value_of(std::string_view text) const noexcept {
  const auto it = std::lower_bound(by_name_.begin(), by_name_.end(), text, [&](std::uint32_t i, std::string_view key) {
    return std::string_view(values[i].second) < key;
  });
  if (it != by_name_.end() && values[*it].second == text)
    return values[*it].first;
  return std::nullopt;
}

void StructPlan::index() {
  by_name_.resize(fields.size());
  for (std::uint32_t i = 0; i < fields.size(); ++i)
    by_name_[i] = i;
  std::sort(by_name_.begin(), by_name_.end(),
            [&](std::uint32_t a, std::uint32_t b) { return fields[a].name < fields[b].name; });
}

const FieldPlan* StructPlan::field_named(std::string_view text) const noexcept {
  const auto it = std::lower_bound(by_name_.begin(), by_name_.end(), text, [&](std::uint32_t i, std::string_view key) {
    return std::string_view(fields[i].name) < key;
  });
  return it != by_name_.end() && fields[*it].name == text ? &fields[*it] : nullptr;
}

DescriptorPlan parse_descriptor(std::string_view descriptor_json) {
  return DescriptorParser().run(descriptor_json);
}

std::uint64_t elements_in_use(const DescriptorPlan& plan, const std::byte* bytes, std::size_t size) noexcept {
  if (!plan.sequence)
    return 0;
  const FieldPlan& sequence = plan.root.fields[plan.sequence->field];
  const FieldPlan& count = plan.root.fields[plan.sequence->count_field];
  // Offsets and sizes are at most 2^32 each (the parser's bound): no overflow.
  if (count.offset + count.size > size || sequence.element_size == 0)
    return 0;
  const std::byte* at = bytes + count.offset;
  std::uint64_t value = 0;
  switch (count.type) {
    case ElementType::u8:
      value = load_unsigned<std::uint8_t>(at);
      break;
    case ElementType::u16:
      value = load_unsigned<std::uint16_t>(at);
      break;
    case ElementType::u32:
      value = load_unsigned<std::uint32_t>(at);
      break;
    default:
      value = load_unsigned<std::uint64_t>(at);
      break;
  }
  const std::uint64_t room = size > sequence.offset ? size - sequence.offset : 0;
  return std::min({value, sequence.count, room / sequence.element_size});
}

std::string note_text_problem(std::string_view text, std::size_t max_bytes) {
  if (text.empty() || text.size() > max_bytes)
    return "must be 1.." + std::to_string(max_bytes) + " bytes long, not " + std::to_string(text.size());
  if (valid_utf8(text) != text)
    return "is not well-formed UTF-8";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto next = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };  // in bounds: UTF-8
    const bool control = c < 0x20 || c == 0x7f || (c == 0xc2 && next(1) < 0xa0);               // C0, DEL, C1
    // U+2028..U+202E (separators, embeddings, overrides) and U+2066..U+2069 (isolates).
    const bool layout = c == 0xe2 && ((next(1) == 0x80 && next(2) >= 0xa8 && next(2) <= 0xae) ||
                                      (next(1) == 0x81 && next(2) >= 0xa6 && next(2) <= 0xa9));
    if (control || layout) {
      return "holds a control or text-direction character at byte " + std::to_string(i) +
             "; only printable text is allowed";
    }
  }
  return {};
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

}  // namespace shmsnap
