// Schema evolution: a writer that only appended fields keeps older readers working;
// anything else is refused with a message naming both schemas and the field.
#include <gtest/gtest.h>

#include <string>

#include <shmsnap/schema.hpp>

#include "frontend.hpp"

namespace {

std::string descriptor_of_file(const std::string& name) {
  auto result = shmsnap::schemac::compile_schema_file(std::string(SHMSNAP_TEST_SCHEMA_DIR) + "/" + name);
  EXPECT_TRUE(result.ok()) << result.message();
  return result.ok() ? result.schema->descriptor_json : std::string();
}

std::string descriptor_of_text(const std::string& text) {
  auto result = shmsnap::schemac::compile_schema_text(text, "inline.toml");
  EXPECT_TRUE(result.ok()) << result.message();
  return result.ok() ? result.schema->descriptor_json : std::string();
}

const std::string v1 = descriptor_of_file("all_types.toml");
const std::string v2 = descriptor_of_file("all_types_v2.toml");
const std::string v3_changed = descriptor_of_file("all_types_changed.toml");

TEST(SchemaCompat, IdenticalSchemasAreCompatible) {
  EXPECT_EQ(shmsnap::schema_incompatibility(v1, v1), "");
}

TEST(SchemaCompat, AppendedFieldsKeepOlderReadersWorking) {
  EXPECT_EQ(shmsnap::schema_incompatibility(/*reader=*/v1, /*writer=*/v2), "");
}

TEST(SchemaCompat, NewerReaderRefusesAnOlderWriter) {
  const std::string why = shmsnap::schema_incompatibility(/*reader=*/v2, /*writer=*/v1);
  EXPECT_NE(why.find("reader shmsnap_test.all_types v2 and writer shmsnap_test.all_types v1"), std::string::npos)
      << why;
  EXPECT_NE(why.find("field 'added_counter' (u64 at offset 432 (8 bytes)) is missing from the writer"),
            std::string::npos)
      << why;
}

TEST(SchemaCompat, ChangedFieldTypeIsRefusedNamingSchemasAndField) {
  const std::string why = shmsnap::schema_incompatibility(/*reader=*/v1, /*writer=*/v3_changed);
  EXPECT_NE(why.find("schema mismatch between reader shmsnap_test.all_types v1 and writer shmsnap_test.all_types v3"),
            std::string::npos)
      << why;
  EXPECT_NE(
      why.find(
          "field 'f32v' differs: the reader has f32 at offset 32 (4 bytes), the writer f64 at offset 32 (8 bytes)"),
      std::string::npos)
      << why;
  EXPECT_NE(why.find("rebuild the reader"), std::string::npos) << why;
}

TEST(SchemaCompat, DifferentSchemasAreRefused) {
  const std::string other =
      descriptor_of_text("name = \"t.other\"\nversion = 4\nfield = [{ name = \"b\", type = \"bool\" }]\n");
  const std::string why = shmsnap::schema_incompatibility(v1, other);
  EXPECT_NE(why.find("the reader expects shmsnap_test.all_types v1 but the writer publishes t.other v4"),
            std::string::npos)
      << why;
}

TEST(SchemaCompat, ChangeInsideANestedStructNamesItsPath) {
  const std::string reader = descriptor_of_text(R"(
name = "t.nest"
version = 1
[[struct]]
name = "Vec3"
field = [{ name = "x", type = "f64" }, { name = "y", type = "f64" }, { name = "z", type = "f64" }]
[[field]]
name = "position"
type = "Vec3"
)");
  const std::string writer = descriptor_of_text(R"(
name = "t.nest"
version = 2
[[struct]]
name = "Vec3"
field = [{ name = "x", type = "f64" }, { name = "y", type = "f64" }, { name = "w", type = "f64" }]
[[field]]
name = "position"
type = "Vec3"
)");
  const std::string why = shmsnap::schema_incompatibility(reader, writer);
  EXPECT_NE(why.find("field 'position.z' of the reader is 'w' in the writer"), std::string::npos) << why;
}

TEST(SchemaCompat, ChangedEnumValuesAreRefused) {
  const auto schema = [](const char* values) {
    return descriptor_of_text(
        std::string("name = \"t.e\"\nversion = 1\n[[enum]]\nname = \"S\"\nunderlying = \"u8\"\nvalues = ") + values +
        "\n[[field]]\nname = \"s\"\ntype = \"S\"\n");
  };
  const std::string why = shmsnap::schema_incompatibility(schema("[\"a\", \"b\"]"), schema("[\"b\", \"a\"]"));
  EXPECT_NE(why.find("field 's' differs: enum S has values {a=0, b=1} in the reader but {b=0, a=1} in the writer"),
            std::string::npos)
      << why;
}

TEST(SchemaCompat, GarbageDescriptorsGiveAReasonNotACrash) {
  const std::string writer_garbage = shmsnap::schema_incompatibility(v1, "\x01\x02garbage");
  EXPECT_EQ(writer_garbage.rfind("the writer's schema cannot be checked: invalid schema descriptor: not JSON", 0), 0U)
      << writer_garbage;
  const std::string reader_garbage = shmsnap::schema_incompatibility(R"({"name":"x"})", v1);
  EXPECT_EQ(reader_garbage.rfind("the reader's schema cannot be checked", 0), 0U) << reader_garbage;
  EXPECT_NE(shmsnap::schema_incompatibility("", ""), "");
}

}  // namespace
