// Generated snapshot types against the C++ compiler: every offset and size the schema
// compiler put in the descriptor equals offsetof/sizeof, for every field (nested ones
// included) of every bundled schema and of the all-types test schema.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include <market_quote_book.hpp>
#include <nlohmann/json.hpp>
#include <robot_pose.hpp>
#include <service_health.hpp>
#include <shmsnap_test_all_types.hpp>

#include "frontend.hpp"

namespace {

// What the generated headers promise at compile time already.
static_assert(shmsnap::Snapshot<market::QuoteBook>);
static_assert(shmsnap::Snapshot<robot::Pose>);
static_assert(shmsnap::Snapshot<service::Health>);
static_assert(shmsnap::Snapshot<shmsnap_test::AllTypes>);
static_assert(std::is_same_v<std::underlying_type_t<service::Health::Status>, std::uint8_t>);
static_assert(std::is_same_v<std::underlying_type_t<shmsnap_test::AllTypes::Mode>, std::int8_t>);

using Extents = std::map<std::string, std::pair<std::size_t, std::size_t>>;

// Flattens descriptor fields into path -> (absolute offset, size), with the same
// path spelling as T::shmsnap_fields().
void flatten(const nlohmann::json& fields, const std::string& prefix, std::size_t base, Extents& out) {
  for (const auto& field : fields) {
    const std::string path = prefix + field.at("name").get<std::string>();
    const std::size_t offset = base + field.at("offset").get<std::size_t>();
    out[path] = {offset, field.at("size").get<std::size_t>()};
    if (field.at("type") == "struct") {
      flatten(field.at("struct").at("fields"), path + (field.contains("count") ? "[0]." : "."), offset, out);
    }
  }
}

template <class T>
class GeneratedLayout : public ::testing::Test {};

using SnapshotTypes = ::testing::Types<market::QuoteBook, robot::Pose, service::Health, shmsnap_test::AllTypes>;
TYPED_TEST_SUITE(GeneratedLayout, SnapshotTypes);

TYPED_TEST(GeneratedLayout, DescriptorOffsetsEqualOffsetof) {
  const auto descriptor = nlohmann::json::parse(TypeParam::shmsnap_schema.descriptor);
  Extents from_descriptor;
  flatten(descriptor.at("fields"), "", 0, from_descriptor);
  const auto fields = TypeParam::shmsnap_fields();
  ASSERT_EQ(from_descriptor.size(), fields.size());
  for (const auto& field : fields) {
    const auto it = from_descriptor.find(std::string(field.path));
    ASSERT_NE(it, from_descriptor.end()) << field.path;
    EXPECT_EQ(it->second.first, field.offset) << field.path;
    EXPECT_EQ(it->second.second, field.size) << field.path;
  }
}

TYPED_TEST(GeneratedLayout, SchemaInfoDescribesTheType) {
  constexpr const shmsnap::SchemaInfo& info = TypeParam::shmsnap_schema;
  const auto descriptor = nlohmann::json::parse(info.descriptor);
  EXPECT_EQ(info.size, sizeof(TypeParam));
  EXPECT_EQ(descriptor.at("size"), sizeof(TypeParam));
  EXPECT_EQ(descriptor.at("align"), alignof(TypeParam));
  EXPECT_EQ(descriptor.at("name"), info.name);
  EXPECT_EQ(descriptor.at("version"), info.version);
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%016llx", static_cast<unsigned long long>(info.fingerprint));
  EXPECT_EQ(descriptor.at("fingerprint"), hex);
}

TYPED_TEST(GeneratedLayout, DefaultConstructedSnapshotIsZero) {
  const TypeParam value;
  const auto descriptor = nlohmann::json::parse(TypeParam::shmsnap_schema.descriptor);
  for (const auto& field : TypeParam::shmsnap_fields()) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(&value) + field.offset;
    for (std::size_t i = 0; i < field.size; ++i)
      ASSERT_EQ(bytes[i], 0) << field.path;
  }
}

TEST(GeneratedHeaders, MatchTheirSchemaFiles) {
  // A stale generated header would publish one layout under another's fingerprint.
  const auto check = [](const std::string& file, const shmsnap::SchemaInfo& info) {
    auto result = shmsnap::schemac::compile_schema_file(file);
    ASSERT_TRUE(result.ok()) << result.message();
    EXPECT_EQ(result.schema->fingerprint, info.fingerprint) << file;
    EXPECT_EQ(result.schema->descriptor_json, info.descriptor) << file;
  };
  check(std::string(SHMSNAP_BUNDLED_SCHEMA_DIR) + "/market_quote_book.toml", market::QuoteBook::shmsnap_schema);
  check(std::string(SHMSNAP_BUNDLED_SCHEMA_DIR) + "/robot_pose.toml", robot::Pose::shmsnap_schema);
  check(std::string(SHMSNAP_BUNDLED_SCHEMA_DIR) + "/service_health.toml", service::Health::shmsnap_schema);
  check(std::string(SHMSNAP_TEST_SCHEMA_DIR) + "/all_types.toml", shmsnap_test::AllTypes::shmsnap_schema);
}

}  // namespace
