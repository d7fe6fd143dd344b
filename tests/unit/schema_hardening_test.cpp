// Hostile descriptors and values: sizes that wrap 64 bits, nesting deep enough to
// overflow a stack, enums of thousands of values, fingerprints that lie about the
// layout, and floats beyond f32. Each is refused with a clear error or handled in
// bounded time, never a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <market_quote_book.hpp>
#include <robot_pose.hpp>
#include <service_health.hpp>
#include <shmsnap/error.hpp>
#include <shmsnap/json_schema.hpp>
#include <shmsnap/schema.hpp>
#include <shmsnap/schema_json.hpp>
#include <shmsnap_test_all_types.hpp>

#include "frontend.hpp"
#include "support/test_snapshot.hpp"

namespace {

using shmsnap::Errc;
using shmsnap::SnapshotCodec;
using Json = nlohmann::json;

// The message of the shmsnap::Error that `make` throws with `code`, or a failure.
template <class Make>
std::string error_of(Make&& make, Errc code) {
  try {
    make();
  } catch (const shmsnap::Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

std::string refused_descriptor(const std::string& descriptor) {
  return error_of([&] { (void)SnapshotCodec(descriptor); }, Errc::invalid_region);
}

constexpr std::uint64_t two_32 = std::uint64_t{1} << 32;

// --- 1. size arithmetic ----------------------------------------------------------

TEST(SchemaHardening, CharCountTimesLengthThatWrapsToZeroIsRefused) {
  // 2^32 strings of 2^32 bytes: 2^64 bytes, which wraps to the stated size 0.
  const std::string descriptor =
      R"({"name":"t","version":1,"size":1,"fields":[{"name":"s","offset":0,"size":0,"type":"char","count":)" +
      std::to_string(two_32) + R"(,"length":)" + std::to_string(two_32) + "}]}";
  const std::string why = refused_descriptor(descriptor);
  EXPECT_NE(why.find("fields[0] ('s'): 4294967296 x 4294967296 bytes exceeds 4294967296"), std::string::npos) << why;
}

TEST(SchemaHardening, StructArrayThatWrapsToZeroIsRefused) {
  const std::string inner = R"({"name":"Big","size":)" + std::to_string(two_32) +
                            R"(,"fields":[{"name":"b","offset":0,"size":1,"type":"u8"}]})";
  const std::string descriptor = R"({"name":"t","version":1,"size":1,"fields":[{"name":"a","offset":0,"size":0,)"
                                 R"("type":"struct","count":)" +
                                 std::to_string(two_32) + R"(,"struct":)" + inner + "}]}";
  EXPECT_NE(refused_descriptor(descriptor).find("exceeds"), std::string::npos);
}

TEST(SchemaHardening, MultiDimensionalCharThatWrapsToZeroIsRefused) {
  const std::string descriptor =
      R"({"name":"t","version":1,"size":1,"fields":[{"name":"s","offset":0,"size":0,"type":"char","count":)" +
      std::to_string(two_32) + R"(,"dims":[65536,65536],"length":)" + std::to_string(two_32) + "}]}";
  EXPECT_NE(refused_descriptor(descriptor).find("exceeds"), std::string::npos);
}

TEST(SchemaHardening, DimsWhoseProductWrapsAreRefused) {
  // 2^32 x 2^32 x 2 wraps to 0 in 64 bits; "count" cannot match any honest product.
  const std::string descriptor = R"({"name":"t","version":1,"size":8,"fields":[{"name":"a","offset":0,"size":8,)"
                                 R"("type":"u8","count":8,"dims":[4294967296,4294967296,2,4]}]})";
  EXPECT_NE(refused_descriptor(descriptor).find("\"dims\" multiply to more than \"count\""), std::string::npos);
}

// Every pair of extreme numbers as a field's count and element size (char length,
// struct size), every extreme offset, and as the stated size both an honest value and
// the product wrapped to 64 bits; in a plain, a string, a multi-dimensional and a
// nested-struct field. Each descriptor is either refused or describes bytes that
// decode inside the buffer (a wrapped size used to be accepted, and decode crashed).
TEST(SchemaHardening, ExtremeNumbersInEveryPositionNeverDecodeOutOfBounds) {
  const std::vector<std::uint64_t> extremes = {
      0, 1, 4, 2147483648, 4294967295, 4294967296, 4294967297, 9223372036854775808ULL, 18446744073709551615ULL};
  const std::vector<std::string> shapes = {
      R"({"name":"a","offset":OFFSET,"size":SIZE,"type":"u64","count":COUNT})",
      R"({"name":"a","offset":OFFSET,"size":SIZE,"type":"char","count":COUNT,"length":LENGTH})",
      R"({"name":"a","offset":OFFSET,"size":SIZE,"type":"char","count":COUNT,"dims":[2,DIM],"length":LENGTH})",
      R"({"name":"a","offset":OFFSET,"size":SIZE,"type":"struct","count":COUNT,)"
      R"("struct":{"name":"S","size":LENGTH,"fields":[{"name":"b","offset":0,"size":1,"type":"u8"}]}})",
  };
  const std::vector<std::byte> bytes(4096, std::byte{0x5a});
  const auto replace_all = [](std::string text, const std::string& key, std::uint64_t value) {
    const std::string shown = std::to_string(value);
    for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + shown.size()))
      text.replace(at, key.size(), shown);
    return text;
  };
  int accepted = 0;
  for (const std::string& shape : shapes) {
    for (const std::uint64_t count : extremes) {
      for (const std::uint64_t length : extremes) {
        for (const std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{8}, two_32, ~std::uint64_t{0}}) {
          const std::uint64_t element = shape.find("u64") != std::string::npos ? 8 : length;
          for (const std::uint64_t size : {element * count /* wraps */, std::uint64_t{16}}) {
            std::string field = replace_all(shape, "OFFSET", offset);
            field = replace_all(field, "COUNT", count);
            field = replace_all(field, "LENGTH", length);
            field = replace_all(field, "DIM", count / 2);
            field = replace_all(field, "SIZE", size);
            for (const std::uint64_t root_size : {std::uint64_t{64}, two_32}) {
              const std::string descriptor =
                  R"({"name":"t","version":1,"size":)" + std::to_string(root_size) + R"(,"fields":[)" + field + "]}";
              try {
                const SnapshotCodec codec(descriptor);
                ++accepted;
                if (codec.size() <= bytes.size())
                  (void)codec.decode(bytes).dump();
              } catch (const shmsnap::Error& e) {
                EXPECT_EQ(e.code(), Errc::invalid_region) << e.what();
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(accepted, 0);  // the consistent small cases are accepted
}

// --- 2. nesting depth --------------------------------------------------------------

std::string nested_structs(int depth) {
  std::string json = R"({"name":"t","version":1,"size":1,"fields":[)";
  for (int i = 0; i < depth; ++i)
    json += R"({"name":"f","offset":0,"size":1,"type":"struct","struct":{"name":"S","size":1,"fields":[)";
  json += R"({"name":"x","offset":0,"size":1,"type":"u8"})";
  for (int i = 0; i < depth; ++i)
    json += "]}}";
  return json + "]}";
}

std::string nested_arrays(int depth) {
  return R"({"name":"t","version":1,"size":1,"junk":)" + std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']') +
         R"(,"fields":[{"name":"x","offset":0,"size":1,"type":"u8"}]})";
}

TEST(SchemaHardening, HundredThousandLevelsAreRefusedBeforeAnyRecursion) {
  for (const std::string& deep : {nested_structs(100'000), nested_arrays(100'000)}) {
    const std::string why = refused_descriptor(deep);
    EXPECT_NE(why.find("JSON nests deeper than 104 levels (structs may nest at most 32 deep)"), std::string::npos)
        << why.substr(0, 300);
    error_of([&] { (void)shmsnap::json_schema_from_descriptor(deep); }, Errc::invalid_region);
    EXPECT_NE(shmsnap::schema_incompatibility(deep, deep).find("JSON nests deeper"), std::string::npos);
    error_of([&] { (void)shmsnap::descriptor_fingerprint(deep); }, Errc::invalid_region);
  }
}

TEST(SchemaHardening, BracketsInsideStringsDoNotCountAsNesting) {
  const std::string name = std::string(200, '[') + "\\\"" + std::string(50, '{');
  const std::string descriptor = R"({"name":"t","version":1,"size":1,"note":")" + name +
                                 R"(","fields":[{"name":"x","offset":0,"size":1,"type":"u8"}]})";
  EXPECT_EQ(SnapshotCodec(descriptor).size(), 1U);
}

TEST(SchemaHardening, DeepestAllowedStructsWithAnEnumLeafStillParse) {
  // 31 nested levels below the root (the parser's limit of 32) and an enum at the
  // bottom: the JSON depth bound must not refuse a descriptor the struct bound allows.
  std::string json = R"({"name":"t","version":1,"size":1,"fields":[)";
  for (int i = 0; i < 31; ++i)
    json += R"({"name":"f","offset":0,"size":1,"type":"struct","struct":{"name":"S","size":1,"fields":[)";
  json += R"({"name":"e","offset":0,"size":1,"type":"enum","count":1,"dims":[1],)"
          R"("enum":{"name":"E","underlying":"u8","values":[{"name":"a","value":1}]}})";
  for (int i = 0; i < 31; ++i)
    json += "]}}";
  json += "]}";
  EXPECT_EQ(SnapshotCodec(json).size(), 1U);
}

// --- 3. large enums ----------------------------------------------------------------

TEST(SchemaHardening, EnumOfNineThousandValuesDecodesAndEncodesALargeArray) {
  constexpr int values = 9'000;
  constexpr int count = 8'192;  // 16 KiB of u16
  std::string enum_json = R"({"name":"Big","underlying":"u16","values":[)";
  for (int v = 0; v < values; ++v)
    enum_json += (v == 0 ? "" : ",") + std::string(R"({"name":"v)") + std::to_string(v) + R"(","value":)" +
                 std::to_string(v * 7) + "}";
  enum_json += R"(,{"name":"alias","value":7}]})";  // a second name for v1: the first one wins
  const std::string descriptor = R"({"name":"t","version":1,"size":16384,"fields":[{"name":"a","offset":0,)"
                                 R"("size":16384,"type":"enum","count":8192,"enum":)" +
                                 enum_json + "}]}";
  const SnapshotCodec codec(descriptor);
  std::vector<std::uint16_t> raw(count);
  for (int i = 0; i < count; ++i)
    raw[static_cast<std::size_t>(i)] = static_cast<std::uint16_t>(i % 2 == 0 ? (i % values) * 7 : 1 + i % 5000 * 7);
  const auto bytes = std::as_bytes(std::span<const std::uint16_t>(raw));
  const Json json = codec.decode(bytes);
  ASSERT_EQ(json.at("a").size(), static_cast<std::size_t>(count));
  EXPECT_EQ(json.at("a")[0], "v0");
  EXPECT_EQ(json.at("a")[1], 1 + 1 * 7);  // not a multiple of 7: unnamed, a number
  EXPECT_EQ(json.at("a")[8190], "v" + std::to_string(8190 % values));
  Json aliased = json;
  aliased["a"][2] = "alias";
  const std::vector<std::byte> encoded = codec.encode(json);
  EXPECT_EQ(encoded, std::vector<std::byte>(bytes.begin(), bytes.end()));
  EXPECT_EQ(codec.decode(codec.encode(aliased)).at("a")[2], "v1");
  EXPECT_NE(error_of(
                [&] {
                  (void)codec.encode(Json{{"a", Json::array({"nope"})}});
                },
                Errc::invalid_argument)
                .find("expected an array of 8192"),
            std::string::npos);
  Json unknown = json;
  unknown["a"][5] = "v9000";
  EXPECT_NE(error_of([&] { (void)codec.encode(unknown); }, Errc::invalid_argument)
                .find("a[5]: 'v9000' is not a value of enum Big"),
            std::string::npos);
}

// --- 4. fingerprints ---------------------------------------------------------------

// robot.pose with the position's x and y swapped, still claiming robot.pose's fingerprint.
Json swapped_pose() {
  Json descriptor = Json::parse(robot::Pose::shmsnap_schema.descriptor);
  for (Json& field : descriptor.at("fields")) {
    if (field.at("name") != "position")
      continue;
    Json& vec = field.at("struct").at("fields");
    EXPECT_EQ(vec[0].at("name"), "x");
    vec[0]["name"] = "y";
    vec[1]["name"] = "x";
  }
  return descriptor;
}

TEST(SchemaHardening, SwappedFieldsUnderTheRealFingerprintAreRefused) {
  const Json swapped = swapped_pose();
  char claimed[24];
  std::snprintf(claimed, sizeof claimed, "0x%016llx",
                static_cast<unsigned long long>(robot::Pose::shmsnap_schema.fingerprint));
  ASSERT_EQ(swapped.at("fingerprint"), claimed);
  const std::string why = refused_descriptor(swapped.dump());
  EXPECT_NE(why.find(std::string("\"fingerprint\" says ") + claimed + " but the layout it describes hashes to 0x"),
            std::string::npos)
      << why;
  // Every reader of outside descriptors goes through the same parser.
  EXPECT_NE(shmsnap::schema_incompatibility(swapped.dump(), swapped.dump()).find("\"fingerprint\" says"),
            std::string::npos);
  error_of([&] { (void)shmsnap::json_schema_from_descriptor(swapped.dump()); }, Errc::invalid_region);

  // Without its own claim the descriptor parses, but a fingerprint carried beside it
  // (a recording's channel, a bridge record) is checked against the layout.
  Json bare = swapped;
  bare.erase("fingerprint");
  const std::string bare_text = bare.dump();
  EXPECT_EQ(SnapshotCodec(bare_text).size(), sizeof(robot::Pose));
  const shmsnap::SchemaInfo lying{"robot.pose", 1, robot::Pose::shmsnap_schema.fingerprint, sizeof(robot::Pose),
                                  bare_text};
  const std::string mismatch = shmsnap::schema_fingerprint_mismatch(lying);
  EXPECT_NE(mismatch.find(std::string("fingerprint ") + claimed + " is claimed but the descriptor's layout hashes to"),
            std::string::npos)
      << mismatch;
  EXPECT_EQ(shmsnap::schema_fingerprint_mismatch(robot::Pose::shmsnap_schema), "");
}

TEST(SchemaHardening, MalformedFingerprintIsRefused) {
  Json descriptor = Json::parse(robot::Pose::shmsnap_schema.descriptor);
  for (const Json& bad : {Json("0x123"), Json(42), Json("0xzzzzzzzzzzzzzzzz")}) {
    descriptor["fingerprint"] = bad;
    EXPECT_NE(refused_descriptor(descriptor.dump()).find("\"fingerprint\" must be a string"), std::string::npos);
  }
}

TEST(SchemaHardening, EveryBundledSchemaRecomputesTheCompilersFingerprint) {
  const auto check = [](const std::string& file, const shmsnap::SchemaInfo& info) {
    const auto result = shmsnap::schemac::compile_schema_file(file);
    ASSERT_TRUE(result.ok()) << result.message();
    EXPECT_EQ(shmsnap::descriptor_canonical_layout(info.descriptor), result.schema->canonical_layout) << file;
    EXPECT_EQ(shmsnap::descriptor_fingerprint(info.descriptor), info.fingerprint) << file;
    EXPECT_EQ(shmsnap::schema_fingerprint_mismatch(info), "") << file;
  };
  check(std::string(SHMSNAP_BUNDLED_SCHEMA_DIR) + "/market_quote_book.toml", market::QuoteBook::shmsnap_schema);
  check(std::string(SHMSNAP_BUNDLED_SCHEMA_DIR) + "/robot_pose.toml", robot::Pose::shmsnap_schema);
  check(std::string(SHMSNAP_BUNDLED_SCHEMA_DIR) + "/service_health.toml", service::Health::shmsnap_schema);
  check(std::string(SHMSNAP_TEST_SCHEMA_DIR) + "/all_types.toml", shmsnap_test::AllTypes::shmsnap_schema);
}

// Units and descriptions are not layout: a descriptor with or without them, or with
// other ones, hashes to the same fingerprint and is compatible both ways.
TEST(SchemaHardening, UnitsAndDescriptionsAreOutsideTheFingerprintAndCompatibility) {
  const std::string annotated(robot::Pose::shmsnap_schema.descriptor);
  ASSERT_NE(annotated.find("\"unit\""), std::string::npos) << "the bundled pose lost its units";
  Json bare = Json::parse(annotated);
  Json relabelled = bare;
  std::function<void(Json&, bool)> strip = [&](Json& fields, bool relabel) {
    for (Json& field : fields) {
      field.erase("unit");
      field.erase("description");
      if (relabel) {
        field["unit"] = "furlong";
        field["description"] = "something else entirely";
      }
      if (field.contains("struct"))
        strip(field["struct"]["fields"], relabel);
    }
  };
  strip(bare["fields"], false);
  strip(relabelled["fields"], true);
  for (const Json& other : {bare, relabelled}) {
    // The claimed fingerprint still verifies, so the parse succeeds at all.
    EXPECT_EQ(SnapshotCodec(other.dump()).size(), sizeof(robot::Pose));
    EXPECT_EQ(shmsnap::descriptor_fingerprint(other.dump()), robot::Pose::shmsnap_schema.fingerprint);
    EXPECT_EQ(shmsnap::descriptor_canonical_layout(other.dump()), shmsnap::descriptor_canonical_layout(annotated));
    EXPECT_EQ(shmsnap::schema_incompatibility(other.dump(), annotated), "");
    EXPECT_EQ(shmsnap::schema_incompatibility(annotated, other.dump()), "");
  }
}

// The hand-written test schemas carry their real fingerprints, so a bridge or a
// replay that checks fingerprints carries them too.
TEST(SchemaHardening, TheTestSnapshotsCarryTheirDescriptorsFingerprints) {
  EXPECT_EQ(shmsnap::schema_fingerprint_mismatch(shmsnap::test::TestSnapshot::shmsnap_schema), "");
  EXPECT_EQ(shmsnap::schema_fingerprint_mismatch(shmsnap::test::LargeSnapshot::shmsnap_schema), "");
}

TEST(SchemaHardening, NamesThatCouldForgeLayoutLinesHaveNoFingerprint) {
  // A newline in a name could make two layouts print the same text.
  const std::string descriptor = R"({"name":"t","version":1,"size":1,"align":1,"fields":[)"
                                 R"({"name":"x type=u8\nfield y","offset":0,"size":1,"type":"u8"}]})";
  EXPECT_EQ(SnapshotCodec(descriptor).size(), 1U);
  EXPECT_NE(error_of([&] { (void)shmsnap::descriptor_fingerprint(descriptor); }, Errc::invalid_region)
                .find("has a character other than letters, digits and '_'"),
            std::string::npos);
}

// --- 5. f32 range ------------------------------------------------------------------

TEST(SchemaHardening, FiniteValuesBeyondF32AreRefusedNotStoredAsInfinity) {
  const SnapshotCodec codec(shmsnap_test::AllTypes::shmsnap_schema.descriptor);
  for (const double big : {1e39, -1e39, 3.5e38, std::numeric_limits<double>::max()}) {
    const std::string why = error_of([&] { (void)codec.encode(Json{{"f32v", big}}); }, Errc::invalid_argument);
    EXPECT_NE(why.find("f32v: "), std::string::npos) << why;
    EXPECT_NE(why.find(" is out of range for f32 (finite values are at most 340282346638528859811704183484516925440"),
              std::string::npos)
        << why;
  }
  EXPECT_NE(error_of(
                [&] {
                  (void)codec.encode(Json{{"floats", {0.0, 1e39}}});
                },
                Errc::invalid_argument)
                .find("floats[1]: "),
            std::string::npos);
  // The largest float, as written exactly or as its shortest decimal, and what is
  // explicitly non-finite, are kept.
  for (const double edge : {static_cast<double>(std::numeric_limits<float>::max()), 3.4028235e38, -3.4028235e38}) {
    const Json decoded = codec.decode(codec.encode(Json{{"f32v", edge}}));
    EXPECT_EQ(decoded.at("f32v").get<double>(), std::copysign(std::numeric_limits<float>::max(), edge));
  }
  EXPECT_EQ(codec.decode(codec.encode(Json{{"f32v", "Infinity"}})).at("f32v"), "Infinity");
  EXPECT_EQ(codec.decode(codec.encode(Json{{"f32v", 1e-50}})).at("f32v"), 0.0);  // underflow is rounding, not refused
}

}  // namespace
