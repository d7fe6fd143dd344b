// json_schema_from_descriptor against the real decoder: snapshots of random bytes (so
// NaNs, unnamed enum values, non-UTF-8 text and extreme integers all occur) decode to
// JSON that an independent validator (Python's jsonschema) accepts, and JSON that
// breaks one rule of the mapping is rejected, so the schema is neither too loose nor
// too strict.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <market_quote_book.hpp>
#include <robot_pose.hpp>
#include <service_health.hpp>
#include <shmsnap/error.hpp>
#include <shmsnap/json_schema.hpp>
#include <shmsnap/schema_json.hpp>
#include <shmsnap_test_all_types.hpp>

#include "support/process_runner.hpp"

namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// Prints one verdict per instance, then "done"; exits non-zero if the schema itself
// is not a valid JSON Schema.
constexpr const char* validator_script = R"(
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
instances = json.load(open(sys.argv[2]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
validator = cls(schema)
for instance in instances:
    print("valid" if validator.is_valid(instance) else "invalid", flush=True)
print("done", flush=True)
)";

class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() / ("shmsnap_json_schema_" + shmsnap::test::unique_prefix())) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Validates each instance against `schema`; one bool per instance.
std::vector<bool> validate(const Json& schema, const std::vector<Json>& instances) {
  TempDir dir;
  const auto schema_path = dir.path() / "schema.json";
  const auto instances_path = dir.path() / "instances.json";
  std::ofstream(schema_path) << schema.dump();
  std::ofstream(instances_path) << Json(instances).dump();
  shmsnap::test::ChildProcess python(
      {SHMSNAP_SYSTEM_PYTHON, "-c", validator_script, schema_path.string(), instances_path.string()});
  std::vector<bool> verdicts;
  for (;;) {
    const auto line = python.read_line(60s);
    if (!line || *line == "done")
      break;
    verdicts.push_back(*line == "valid");
  }
  EXPECT_EQ(python.wait_exit(60s), 0) << "the validator failed (is python3-jsonschema installed?)";
  EXPECT_EQ(verdicts.size(), instances.size());
  return verdicts;
}

template <class T>
std::vector<Json> decoded_samples(std::size_t count) {
  const std::string_view descriptor = T::shmsnap_schema.descriptor;
  const shmsnap::SnapshotCodec codec(descriptor);
  std::mt19937_64 random(12345);
  std::vector<Json> out;
  std::vector<std::byte> bytes(codec.size());
  out.push_back(codec.decode(bytes));  // all zero
  std::fill(bytes.begin(), bytes.end(), std::byte{0xff});
  out.push_back(codec.decode(bytes));  // NaNs, -1s, maximal unsigneds, invalid UTF-8
  for (std::size_t i = 0; i < count; ++i) {
    for (auto& b : bytes)
      b = static_cast<std::byte>(random());
    out.push_back(codec.decode(bytes));
  }
  return out;
}

template <class T>
class JsonSchemaOfBundled : public ::testing::Test {};

using SnapshotTypes = ::testing::Types<market::QuoteBook, robot::Pose, service::Health, shmsnap_test::AllTypes>;
TYPED_TEST_SUITE(JsonSchemaOfBundled, SnapshotTypes);

TYPED_TEST(JsonSchemaOfBundled, EveryDecodedSnapshotValidates) {
  const Json schema = shmsnap::json_schema_from_descriptor(TypeParam::shmsnap_schema.descriptor);
  const std::vector<Json> instances = decoded_samples<TypeParam>(50);
  const std::vector<bool> verdicts = validate(schema, instances);
  for (std::size_t i = 0; i < verdicts.size(); ++i)
    EXPECT_TRUE(verdicts[i]) << "decoded snapshot " << i << " fails its schema: " << instances[i].dump();
}

// Each instance breaks exactly one rule; a schema that accepts any of them is too loose.
TEST(JsonSchema, RejectsJsonThatBreaksTheMapping) {
  const std::string_view descriptor = shmsnap_test::AllTypes::shmsnap_schema.descriptor;
  const Json schema = shmsnap::json_schema_from_descriptor(descriptor);
  const Json good = decoded_samples<shmsnap_test::AllTypes>(0).front();
  ASSERT_TRUE(good.contains("u8v") && good.contains("text") && good.contains("matrix") && good.contains("mode"));

  std::vector<Json> bad;
  const auto with = [&](const std::function<void(Json&)>& change) {
    Json value = good;
    change(value);
    bad.push_back(std::move(value));
  };
  with([](Json& v) { v["unknown"] = 1; });
  with([](Json& v) { v.erase("u8v"); });
  with([](Json& v) { v["u8v"] = 256; });
  with([](Json& v) { v["i8v"] = -129; });
  with([](Json& v) { v["u64v"] = -1; });
  with([](Json& v) { v["u8v"] = 1.5; });
  with([](Json& v) { v["b"] = 1; });
  with([](Json& v) { v["f64v"] = "nan"; });
  with([](Json& v) { v["text"] = "toolong"; });  // char[5]
  with([](Json& v) { v["shorts"].push_back(0); });
  with([](Json& v) { v["matrix"][0].push_back(0); });
  with([](Json& v) { v["mode"] = "no_such_mode"; });
  with([](Json& v) { v["mode"] = 128; });  // enum : i8
  const std::vector<bool> verdicts = validate(schema, bad);
  for (std::size_t i = 0; i < verdicts.size(); ++i)
    EXPECT_FALSE(verdicts[i]) << "accepted although invalid: " << bad[i].dump();

  // And the untouched value passes, so the rejections above are for the change made.
  EXPECT_EQ(validate(schema, {good}), std::vector<bool>{true});
}

// What Foxglove (through shmsnap serve) and MCAP JSON channels show for a field: its
// description with the unit, and the unit as a key of its own.
TEST(JsonSchema, FieldsCarryTheirUnitAndDescription) {
  const Json schema = shmsnap::json_schema_from_descriptor(robot::Pose::shmsnap_schema.descriptor);
  const Json& stamp = schema.at("properties").at("stamp");
  EXPECT_EQ(stamp.at("description"), "When the pose was measured.");
  EXPECT_EQ(stamp.at("properties").at("sec").at("unit"), "s");
  EXPECT_EQ(stamp.at("properties").at("sec").at("description"), "unit: s");
  EXPECT_EQ(stamp.at("properties").at("nanosec").at("description"), "0..999999999 (unit: ns)");
  EXPECT_EQ(schema.at("properties").at("position").at("properties").at("x").at("unit"), "m");
  EXPECT_FALSE(schema.at("properties").at("orientation").at("properties").at("w").contains("unit"));
  // An array carries it on the array; a bounded sequence keeps its own note after it.
  const Json book = shmsnap::json_schema_from_descriptor(market::QuoteBook::shmsnap_schema.descriptor);
  EXPECT_EQ(book.at("properties").at("bid_size").at("unit"), "contracts");
  EXPECT_EQ(book.at("properties").at("bid_size").at("description"),
            "Quantity resting at each bid level. (unit: contracts)");
  const Json health = shmsnap::json_schema_from_descriptor(service::Health::shmsnap_schema.descriptor);
  const std::string status = health.at("properties").at("status").at("description");
  EXPECT_EQ(status.rfind("enum Status: one of its names", 0), 0U) << status;  // no note: as before
  EXPECT_EQ(health.at("properties").at("uptime_ns").at("unit"), "ns");
}

TEST(JsonSchema, MalformedDescriptorIsAnError) {
  try {
    (void)shmsnap::json_schema_from_descriptor(R"({"name":"x","version":1,"size":0,"fields":[]})");
    FAIL() << "no error";
  } catch (const shmsnap::Error& e) {
    EXPECT_EQ(e.code(), shmsnap::Errc::invalid_region);
  }
}

}  // namespace
