// Fuzz target: descriptors built from the input bytes, so every shape (scalars,
// strings, multi-dimensional arrays, nested structs, enums) meets the numbers that
// break size arithmetic: 0, 1, 2^31, 2^32, 2^63, 2^64-1 and their neighbours in
// "offset", "size", "count", "length", "dims" and struct sizes, plus the wrapped
// product of count and element size as the stated size, deep nesting and claimed
// fingerprints. Byte-level fuzzing of JSON (fuzz_descriptor_decode) rarely reaches
// these combinations. Properties: parsing either succeeds or throws
// Error{invalid_region}; what parses decodes inside its size, dumps, re-encodes to the
// same JSON, has a JSON Schema, is compatible with itself, and its recomputed
// fingerprint is accepted when claimed and refused when altered.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <shmsnap/error.hpp>
#include <shmsnap/json_schema.hpp>
#include <shmsnap/schema.hpp>
#include <shmsnap/schema_json.hpp>

namespace {

using Json = nlohmann::json;

constexpr std::uint64_t extremes[] = {0,
                                      1,
                                      2,
                                      3,
                                      4,
                                      8,
                                      255,
                                      256,
                                      65535,
                                      65536,
                                      (1ULL << 31) - 1,
                                      1ULL << 31,
                                      (1ULL << 32) - 1,
                                      1ULL << 32,
                                      (1ULL << 32) + 1,
                                      1ULL << 53,
                                      (1ULL << 63) - 1,
                                      1ULL << 63,
                                      ~0ULL - 1,
                                      ~0ULL};
constexpr const char* scalar_types[] = {"bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64"};
constexpr std::uint64_t scalar_sizes[] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 4, 8};
constexpr const char* integer_types[] = {"i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"};
constexpr std::uint64_t integer_sizes[] = {1, 2, 4, 8, 1, 2, 4, 8};

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  bool empty() const { return at_ >= size_; }
  std::span<const std::uint8_t> rest() const { return {data_ + at_, size_ - at_}; }

  std::uint64_t raw64() {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i)
      value = (value << 8U) | byte();
    return value;
  }

  // Mostly the honest value, often an extreme, sometimes anything at all.
  Json number(std::uint64_t honest) {
    const std::uint8_t pick = byte();
    if (pick < 128)
      return honest;
    if (pick < 128 + std::size(extremes))
      return extremes[pick - 128];
    if (pick < 200)
      return honest + (pick & 1U ? 1 : ~0ULL);  // off by one either way (wrapping on purpose)
    if (pick < 210)
      return -static_cast<std::int64_t>(byte());
    if (pick < 215)
      return "7";  // wrong JSON type
    return raw64();
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

struct Built {
  Json json;
  std::uint64_t size = 0;  // what an honest descriptor would state, wrapped like C would
};

Built build_struct(Input& in, int depth, int& budget);

Json build_enum(Input& in, std::uint64_t& element_size) {
  const std::uint8_t kind = in.byte() % std::size(integer_types);
  element_size = integer_sizes[kind];
  Json values = Json::array();
  // Up to ~4000 values: large enums must stay fast (they are indexed).
  const std::size_t count = in.byte() < 16 ? std::size_t{in.byte()} * 16 : in.byte() % 8;
  for (std::size_t i = 0; i < count && !in.empty(); ++i) {
    Json value = in.byte() < 200 ? Json(static_cast<std::int64_t>(i) - (in.byte() % 3)) : in.number(i);
    // Unique names: with two values of one name, decode(encode(x)) may legitimately
    // differ (the first of each wins), which is not what this target checks.
    values.push_back({{"name", "v" + std::to_string(i)}, {"value", value}});
  }
  return {{"name", "E"}, {"underlying", integer_types[kind]}, {"values", values}};
}

Json build_field(Input& in, int depth, int& budget, std::uint64_t offset, std::uint64_t& end) {
  Json field = {{"name", "f" + std::to_string(budget)}};
  const std::uint8_t kind = in.byte() % 16;
  std::uint64_t element = 0;
  if (kind < std::size(scalar_types)) {
    field["type"] = scalar_types[kind];
    element = scalar_sizes[kind];
  } else if (kind < 13) {
    field["type"] = "char";
    const std::uint64_t length = 1 + in.byte() % 8;
    const Json stated = in.number(length);
    field["length"] = stated;
    element = stated.is_number_unsigned() ? stated.get<std::uint64_t>() : length;
  } else if (kind < 15 && depth < 40) {
    field["type"] = "struct";
    Built nested = build_struct(in, depth + 1, budget);
    nested.json["name"] = "S" + std::to_string(depth);
    field["struct"] = nested.json;
    element = nested.size;
  } else {
    field["type"] = "enum";
    field["enum"] = build_enum(in, element);
  }
  std::uint64_t count = 1;
  if (in.byte() < 96) {
    const std::uint8_t dims = in.byte() % 4;
    if (dims == 0) {
      count = 1 + in.byte() % 6;
      const Json stated = in.number(count);
      field["count"] = stated;
      count = stated.is_number_unsigned() ? stated.get<std::uint64_t>() : count;
    } else {
      Json list = Json::array();
      count = 1;
      for (std::uint8_t d = 0; d <= dims; ++d) {
        const Json length = in.number(1 + in.byte() % 3);
        list.push_back(length);
        count *= length.is_number_unsigned() ? length.get<std::uint64_t>() : 1;  // wraps on purpose
      }
      field["dims"] = list;
      field["count"] = in.number(count);
    }
  }
  const std::uint64_t size = element * count;  // wraps on purpose: the stated size may be the wrapped one
  field["offset"] = in.number(offset);
  field["size"] = in.number(size);
  end = offset + size;
  return field;
}

Built build_struct(Input& in, int depth, int& budget) {
  Json fields = Json::array();
  std::uint64_t end = 0;
  const std::size_t count = in.byte() % 6;
  for (std::size_t i = 0; i < count && budget > 0 && !in.empty(); ++i) {
    --budget;
    std::uint64_t field_end = end;
    fields.push_back(build_field(in, depth, budget, end, field_end));
    end = field_end;
  }
  Built built;
  built.size = end == 0 ? 1 : end;
  built.json = {{"fields", fields}, {"size", in.number(built.size)}};
  if (in.byte() < 200)
    built.json["align"] = in.byte() < 240 ? Json(1) : in.number(8);
  const Json& size = built.json["size"];
  built.size = size.is_number_unsigned() ? size.get<std::uint64_t>() : built.size;
  return built;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  int budget = 64;
  Built root = build_struct(in, 0, budget);
  root.json["name"] = "fuzz.shape";
  root.json["version"] = 1;
  // Rare, and off when the input runs out (byte() is then 0), so short inputs reach
  // the decoder: a deep tail of arrays the parser must refuse without recursing, and
  // a claimed fingerprint that is almost surely wrong.
  if (in.byte() > 248)
    root.json["junk"] = Json::parse(std::string(300, '[') + std::string(300, ']'));
  if (in.byte() > 224) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%016llx", static_cast<unsigned long long>(in.raw64()));
    root.json["fingerprint"] = hex;
  }
  const std::string descriptor = root.json.dump();

  const std::string verdict = shmsnap::schema_incompatibility(descriptor, descriptor);
  try {
    const shmsnap::SnapshotCodec codec(descriptor);
    if (!verdict.empty())
      std::abort();
    (void)shmsnap::json_schema_from_descriptor(descriptor).dump();
    if (codec.size() > (1U << 20))
      return 0;  // valid, but too large to decode quickly
    std::vector<std::byte> bytes(codec.size());
    const auto rest = in.rest();
    for (std::size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = rest.empty() ? std::byte{0} : std::byte{rest[i % rest.size()]};
    const Json decoded = codec.decode(bytes);
    (void)decoded.dump();
    try {
      if (codec.decode(codec.encode(decoded)) != decoded)
        std::abort();
    } catch (const shmsnap::Error& e) {
      if (e.code() != shmsnap::Errc::invalid_argument)
        std::abort();
    }
    std::uint64_t fingerprint = 0;
    try {
      fingerprint = shmsnap::descriptor_fingerprint(descriptor);
    } catch (const shmsnap::Error& e) {
      if (e.code() != shmsnap::Errc::invalid_region)
        std::abort();
      return 0;  // e.g. a struct without "align": no canonical text
    }
    for (const std::uint64_t claimed : {fingerprint, fingerprint ^ 1U}) {
      char hex[24];
      std::snprintf(hex, sizeof hex, "0x%016llx", static_cast<unsigned long long>(claimed));
      Json claiming = root.json;
      claiming["fingerprint"] = hex;
      try {
        (void)shmsnap::SnapshotCodec(claiming.dump());
        if (claimed != fingerprint)
          std::abort();  // a wrong claim must be refused
      } catch (const shmsnap::Error& e) {
        if (claimed == fingerprint || e.code() != shmsnap::Errc::invalid_region)
          std::abort();
      }
    }
  } catch (const shmsnap::Error& e) {
    if (e.code() != shmsnap::Errc::invalid_region || verdict.empty())
      std::abort();
  }
  return 0;
}
