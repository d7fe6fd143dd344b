// Bounded sequences (issue 22): a last top-level array whose in-use element count an
// earlier unsigned field holds (`count_field`). The compiler's rules, the descriptor
// and fingerprint, the generated used-bytes member and the JSON codec.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <market_quote_book.hpp>
#include <nlohmann/json.hpp>
#include <sensor_point_cloud.hpp>
#include <shmsnap/error.hpp>
#include <shmsnap/json_schema.hpp>
#include <shmsnap/schema.hpp>
#include <shmsnap/schema_json.hpp>

#include "frontend.hpp"

namespace {

using shmsnap::Errc;
using shmsnap::SnapshotCodec;
using Json = nlohmann::json;

const std::string header = "name = \"t.seq\"\nversion = 1\n";

std::string refused(const std::string& fields) {
  const auto result = shmsnap::schemac::compile_schema_text(header + fields, "seq.toml");
  EXPECT_FALSE(result.ok()) << fields;
  return result.message();
}

std::string codec_error(const std::string& descriptor) {
  try {
    (void)SnapshotCodec(descriptor);
  } catch (const shmsnap::Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_region);
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << descriptor;
  return {};
}

std::span<const std::byte> bytes_of(const sensor::PointCloud& cloud, std::size_t size) {
  return {reinterpret_cast<const std::byte*>(&cloud), size};
}

TEST(BoundedSequence, TheCompilerRefusesEveryBrokenRuleNamingTheField) {
  // Not the last field.
  EXPECT_NE(refused("[[field]]\nname = \"n\"\ntype = \"u32\"\n"
                    "[[field]]\nname = \"v\"\ntype = \"f64[8]\"\ncount_field = \"n\"\n"
                    "[[field]]\nname = \"after\"\ntype = \"u8\"\n")
                .find("field 'v': 'count_field' makes a bounded sequence, which must be the last top-level field"),
            std::string::npos);
  // Not a one-dimensional array.
  EXPECT_NE(refused("[[field]]\nname = \"n\"\ntype = \"u32\"\n"
                    "[[field]]\nname = \"v\"\ntype = \"f64[2][4]\"\ncount_field = \"n\"\n")
                .find("must be a one-dimensional array"),
            std::string::npos);
  EXPECT_NE(refused("[[field]]\nname = \"n\"\ntype = \"u32\"\n"
                    "[[field]]\nname = \"v\"\ntype = \"f64\"\ncount_field = \"n\"\n")
                .find("must be a one-dimensional array"),
            std::string::npos);
  // The count is no earlier field, or itself.
  EXPECT_NE(refused("[[field]]\nname = \"count\"\ntype = \"u32\"\n"
                    "[[field]]\nname = \"v\"\ntype = \"f64[8]\"\ncount_field = \"cuont\"\n")
                .find("'count_field' names 'cuont', which is not an earlier top-level field (did you mean 'count'?)"),
            std::string::npos);
  EXPECT_NE(refused("[[field]]\nname = \"n\"\ntype = \"u32\"\n"
                    "[[field]]\nname = \"v\"\ntype = \"u32[8]\"\ncount_field = \"v\"\n")
                .find("not an earlier top-level field"),
            std::string::npos);
  // The count is not an unsigned integer scalar, or too narrow for the capacity.
  for (const char* type : {"i32", "f64", "u32[2]", "bool"}) {
    EXPECT_NE(refused(std::string("[[field]]\nname = \"n\"\ntype = \"") + type +
                      "\"\n[[field]]\nname = \"v\"\ntype = \"f64[8]\"\ncount_field = \"n\"\n")
                  .find("it must be an unsigned integer scalar (u8, u16, u32 or u64)"),
              std::string::npos)
        << type;
  }
  EXPECT_NE(refused("[[field]]\nname = \"n\"\ntype = \"u8\"\n"
                    "[[field]]\nname = \"v\"\ntype = \"u8[300]\"\ncount_field = \"n\"\n")
                .find("count field 'n' (u8) cannot count to 300 elements"),
            std::string::npos);
  // Inside a [[struct]].
  EXPECT_NE(refused("[[struct]]\nname = \"S\"\nfield = [{ name = \"n\", type = \"u8\" },"
                    " { name = \"v\", type = \"u8[4]\", count_field = \"n\" }]\n"
                    "[[field]]\nname = \"s\"\ntype = \"S\"\n")
                .find("struct 'S' field 'v': 'count_field' is only allowed on the last field of the snapshot"),
            std::string::npos);
  // Not a string.
  EXPECT_NE(refused("[[field]]\nname = \"n\"\ntype = \"u32\"\n"
                    "[[field]]\nname = \"v\"\ntype = \"f64[8]\"\ncount_field = 3\n")
                .find("count_field"),
            std::string::npos);
}

TEST(BoundedSequence, TheDescriptorCarriesItAndBothFingerprintsAgree) {
  const auto result =
      shmsnap::schemac::compile_schema_file(std::string(SHMSNAP_BUNDLED_SCHEMA_DIR) + "/point_cloud.toml");
  ASSERT_TRUE(result.ok()) << result.message();
  const shmsnap::SchemaInfo& info = sensor::PointCloud::shmsnap_schema;
  const Json descriptor = Json::parse(info.descriptor);
  EXPECT_EQ(descriptor["fields"].back()["count_field"], "point_count");
  EXPECT_NE(result.schema->canonical_layout.find(
                "field points type=struct offset=44 size=1048576 count=65536 count_field=point_count\n"),
            std::string::npos);
  EXPECT_EQ(shmsnap::descriptor_canonical_layout(info.descriptor), result.schema->canonical_layout);
  EXPECT_EQ(shmsnap::descriptor_fingerprint(info.descriptor), info.fingerprint);
  EXPECT_EQ(result.schema->fingerprint, info.fingerprint);
  // The key is part of the layout: without it the fingerprint is another one, and a
  // descriptor that drops it under the old fingerprint is refused.
  Json stripped = descriptor;
  stripped["fields"].back().erase("count_field");
  EXPECT_NE(codec_error(stripped.dump()).find("\"fingerprint\" says"), std::string::npos);
  stripped.erase("fingerprint");
  EXPECT_NE(shmsnap::descriptor_fingerprint(stripped.dump()), info.fingerprint);
}

TEST(BoundedSequence, SchemasWithoutTheKeyKeepTheirFingerprints) {
  // Pinned before bounded sequences existed (schema_frontend_test pins the rest).
  EXPECT_EQ(market::QuoteBook::shmsnap_schema.fingerprint, 0x2a0d95a2e0c45a48ULL);
  EXPECT_EQ(shmsnap::descriptor_fingerprint(market::QuoteBook::shmsnap_schema.descriptor), 0x2a0d95a2e0c45a48ULL);
  EXPECT_EQ(shmsnap::descriptor_canonical_layout(market::QuoteBook::shmsnap_schema.descriptor).find("count_field"),
            std::string::npos);
}

TEST(BoundedSequence, AReaderAndWriterThatDisagreeOnTheSequenceAreIncompatible) {
  const std::string counted = R"({"name":"t.seq","version":1,"size":36,"align":4,"fields":[)"
                              R"({"name":"n","offset":0,"size":4,"type":"u32"},)"
                              R"({"name":"v","offset":4,"size":32,"type":"u32","count":8,"count_field":"n"}]})";
  Json fixed = Json::parse(counted);
  fixed["fields"][1].erase("count_field");
  EXPECT_EQ(shmsnap::schema_incompatibility(counted, counted), "");
  EXPECT_NE(shmsnap::schema_incompatibility(counted, fixed.dump())
                .find("field 'v' differs: the reader has a bounded sequence counted by 'n', the writer a fixed array"),
            std::string::npos);
  EXPECT_NE(shmsnap::schema_incompatibility(fixed.dump(), counted).find("the reader has a fixed array"),
            std::string::npos);
}

TEST(BoundedSequence, TheDescriptorParserRefusesEveryBrokenRule) {
  const auto descriptor = [](const std::string& fields) {
    return R"({"name":"t.seq","version":1,"size":64,"align":8,"fields":[)" + fields + "]}";
  };
  const std::string count = R"({"name":"n","offset":0,"size":4,"type":"u32"})";
  EXPECT_NE(codec_error(descriptor(count + R"(,{"name":"v","offset":8,"size":32,"type":"u32","count":8,)"
                                           R"("count_field":"n"},{"name":"w","offset":40,"size":1,"type":"u8"})"))
                .find("only allowed on the last top-level field"),
            std::string::npos);
  EXPECT_NE(codec_error(descriptor(count + R"(,{"name":"v","offset":8,"size":32,"type":"u32","count":8,)"
                                           R"("dims":[2,4],"count_field":"n"})"))
                .find("must be a one-dimensional array"),
            std::string::npos);
  EXPECT_NE(codec_error(descriptor(count + R"(,{"name":"v","offset":8,"size":4,"type":"u32","count_field":"n"})"))
                .find("must be a one-dimensional array"),
            std::string::npos);
  EXPECT_NE(codec_error(descriptor(count + R"(,{"name":"v","offset":8,"size":32,"type":"u32","count":8,)"
                                           R"("count_field":"m"})"))
                .find("'m' is not an earlier top-level field"),
            std::string::npos);
  EXPECT_NE(codec_error(descriptor(R"({"name":"n","offset":0,"size":4,"type":"i32"},)"
                                   R"({"name":"v","offset":8,"size":32,"type":"u32","count":8,"count_field":"n"})"))
                .find("not an unsigned integer scalar"),
            std::string::npos);
  // Last in the array but not last in memory.
  EXPECT_NE(codec_error(descriptor(R"({"name":"n","offset":40,"size":4,"type":"u32"},)"
                                   R"({"name":"v","offset":0,"size":32,"type":"u32","count":8,"count_field":"n"})"))
                .find("lies after the bounded sequence"),
            std::string::npos);
  // Inside a nested struct.
  EXPECT_NE(codec_error(descriptor(R"({"name":"s","offset":0,"size":12,"type":"struct","struct":{"name":"S",)"
                                   R"("size":12,"align":4,"fields":[)" +
                                   count +
                                   R"(,{"name":"v","offset":4,"size":8,"type":"u32","count":2,"count_field":"n"}]}})"))
                .find("only allowed on a top-level field"),
            std::string::npos);
}

TEST(BoundedSequence, UsedBytesCoverTheFieldsBeforeAndTheElementsInUse) {
  auto cloud = std::make_unique<sensor::PointCloud>();
  const std::size_t prefix = offsetof(sensor::PointCloud, points);
  EXPECT_EQ(shmsnap::used_bytes(*cloud), prefix);
  cloud->point_count = 3;
  EXPECT_EQ(shmsnap::used_bytes(*cloud), prefix + 3 * sizeof(sensor::PointCloud::Point));
  cloud->point_count = 65536;
  EXPECT_EQ(shmsnap::used_bytes(*cloud), prefix + 65536 * sizeof(sensor::PointCloud::Point));
  cloud->point_count = 4'000'000'000U;  // beyond the capacity: clamped, never past the struct
  EXPECT_EQ(shmsnap::used_bytes(*cloud), prefix + 65536 * sizeof(sensor::PointCloud::Point));
  EXPECT_LE(shmsnap::used_bytes(*cloud), sizeof(sensor::PointCloud));
  // A type without a bounded sequence is copied whole.
  const market::QuoteBook book{};
  EXPECT_EQ(shmsnap::used_bytes(book), sizeof(market::QuoteBook));
  static_assert(shmsnap::HasUsedBytes<sensor::PointCloud> && !shmsnap::HasUsedBytes<market::QuoteBook>);
}

TEST(BoundedSequence, TheCodecDecodesOnlyTheElementsInUseFromAUsedPrefix) {
  const SnapshotCodec codec(sensor::PointCloud::shmsnap_schema.descriptor);
  auto cloud = std::make_unique<sensor::PointCloud>();
  cloud->stamp_ns = 42;
  std::memcpy(cloud->frame_id, "lidar", 5);
  cloud->point_count = 2;
  cloud->points[0] = {1, 2, 3, 4};
  cloud->points[1] = {5, 6, 7, 8};
  cloud->points[2] = {9, 9, 9, 9};  // not in use
  const std::size_t used = shmsnap::used_bytes(*cloud);
  EXPECT_EQ(codec.min_size(), offsetof(sensor::PointCloud, points));
  EXPECT_EQ(codec.used_size(bytes_of(*cloud, sizeof *cloud)), used);
  // Only the used prefix is given, as a reader that copied only it has.
  const Json decoded = codec.decode(bytes_of(*cloud, used));
  EXPECT_EQ(decoded["point_count"], 2);
  ASSERT_EQ(decoded["points"].size(), 2U);
  EXPECT_EQ(decoded["points"][1]["intensity"], 8.0);
  EXPECT_EQ(decoded["frame_id"], "lidar");
  EXPECT_EQ(codec.decode(bytes_of(*cloud, sizeof *cloud)), decoded);
  // Shorter than the fields before the sequence: refused.
  EXPECT_THROW((void)codec.decode(bytes_of(*cloud, codec.min_size() - 1)), shmsnap::Error);
}

TEST(BoundedSequence, ACountBeyondTheCapacityOrTheBytesGivenIsClamped) {
  const SnapshotCodec codec(sensor::PointCloud::shmsnap_schema.descriptor);
  auto cloud = std::make_unique<sensor::PointCloud>();
  cloud->point_count = 1000;
  // Bytes for two and a half points: two decode, nothing past the buffer is read.
  const std::size_t given = codec.min_size() + 2 * sizeof(sensor::PointCloud::Point) + 8;
  std::vector<std::byte> buffer(given);
  std::memcpy(buffer.data(), cloud.get(), given);
  const Json short_decode = codec.decode(buffer);
  EXPECT_EQ(short_decode["point_count"], 2);
  EXPECT_EQ(short_decode["points"].size(), 2U);
  EXPECT_EQ(codec.used_size(buffer), codec.min_size() + 2 * sizeof(sensor::PointCloud::Point));
  // Beyond the capacity with the whole snapshot given: the capacity.
  cloud->point_count = 70000;
  const Json full = codec.decode(bytes_of(*cloud, sizeof *cloud));
  EXPECT_EQ(full["point_count"], 65536);
  EXPECT_EQ(full["points"].size(), 65536U);
}

TEST(BoundedSequence, EncodingFillsTheCountAndTheElements) {
  const SnapshotCodec codec(sensor::PointCloud::shmsnap_schema.descriptor);
  const Json value = {{"frame_id", "map"},
                      {"points", Json::array({{{"x", 1.0}, {"y", 2.0}, {"z", 3.0}, {"intensity", 0.5}},
                                              {{"x", -1.0}, {"y", 0.0}, {"z", 0.0}, {"intensity", 1.0}},
                                              {{"x", 7.0}, {"y", 0.0}, {"z", 0.0}, {"intensity", 0.0}}})}};
  const std::vector<std::byte> bytes = codec.encode(value);
  ASSERT_EQ(bytes.size(), sizeof(sensor::PointCloud));
  auto cloud = std::make_unique<sensor::PointCloud>();
  std::memcpy(cloud.get(), bytes.data(), bytes.size());
  EXPECT_EQ(cloud->point_count, 3U);
  EXPECT_EQ(cloud->points[2].x, 7.0F);
  EXPECT_EQ(codec.decode(std::span(bytes).first(shmsnap::used_bytes(*cloud)))["points"], value["points"]);
  // A count that agrees is fine; one that disagrees, or a sequence past the capacity, is not.
  Json agreeing = value;
  agreeing["point_count"] = 3;
  EXPECT_EQ(codec.encode(agreeing), bytes);
  Json disagreeing = value;
  disagreeing["point_count"] = 5;
  try {
    (void)codec.encode(disagreeing);
    ADD_FAILURE() << "a disagreeing count was encoded";
  } catch (const shmsnap::Error& e) {
    EXPECT_NE(std::string(e.what()).find("the count 5 disagrees with the 3 elements of 'points'"), std::string::npos);
  }
  EXPECT_THROW((void)codec.encode(Json{{"point_count", 65537}}), shmsnap::Error);
  Json too_many = Json::object();
  too_many["points"] = Json::array();
  for (int i = 0; i < 65537; ++i)
    too_many["points"].push_back(Json::object());
  EXPECT_THROW((void)codec.encode(too_many), shmsnap::Error);
}

TEST(BoundedSequence, TheJsonSchemaAllowsZeroToCapacityItems) {
  const Json schema = shmsnap::json_schema_from_descriptor(sensor::PointCloud::shmsnap_schema.descriptor);
  const Json& points = schema["properties"]["points"];
  EXPECT_EQ(points["minItems"], 0);
  EXPECT_EQ(points["maxItems"], 65536);
}

}  // namespace
