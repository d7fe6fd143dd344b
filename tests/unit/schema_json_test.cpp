// The descriptor-driven JSON codec: every type decodes to the documented JSON and
// encodes back to the same bytes; bad descriptors and short buffers are clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <market_quote_book.hpp>
#include <robot_pose.hpp>
#include <shmsnap/error.hpp>
#include <shmsnap/schema_json.hpp>
#include <shmsnap_test_all_types.hpp>

namespace {

using shmsnap::Errc;
using shmsnap::SnapshotCodec;
using shmsnap_test::AllTypes;
using Json = nlohmann::json;

template <class T>
std::span<const std::byte> bytes_of(const T& value) {
  return std::as_bytes(std::span<const T, 1>(&value, 1));
}

AllTypes sample() {
  AllTypes v;
  std::memset(static_cast<void*>(&v), 0, sizeof v);  // padding too, so encode's zero padding compares equal
  v.b = true;
  v.i8v = -8;
  v.i16v = -1600;
  v.i32v = -320000;
  v.i64v = std::numeric_limits<std::int64_t>::min();
  v.u8v = 255;
  v.u16v = 65535;
  v.u32v = std::numeric_limits<std::uint32_t>::max();
  v.u64v = std::numeric_limits<std::uint64_t>::max();
  v.f32v = 1.5F;
  v.f64v = -2.25;
  std::memcpy(v.text, "hello", 5);  // fills char[5]: no NUL
  std::memcpy(v.names[0], "ab", 2);
  std::memcpy(v.names[1], "cde", 3);
  v.flags[0] = true;
  v.flags[2] = true;
  v.shorts[0] = -1;
  v.shorts[1] = 2;
  v.shorts[2] = -3;
  v.floats[0] = 0.25F;
  v.floats[1] = -4.0F;
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 3; ++c)
      v.matrix[r][c] = r * 10 + c;
  }
  v.cube[1][0][1] = 7;
  v.mode = AllTypes::Mode::reverse;
  v.modes[0] = AllTypes::Mode::forward;
  v.modes[1] = static_cast<AllTypes::Mode>(42);  // a value without a name
  v.big = AllTypes::Big::huge;
  v.outer.id = 9;
  v.outer.inner.flag = true;
  v.outer.inner.value = 3.5;
  v.outer.inner.mode = AllTypes::Mode::idle;
  v.outer.inners[1].value = -1.0;
  std::memcpy(v.outer.tag, "xy", 2);
  v.outers[1].id = 77;
  v.outers[1].inners[0].mode = AllTypes::Mode::forward;
  v.tail = 0xab;
  return v;
}

TEST(SchemaJson, DecodesEveryType) {
  const AllTypes value = sample();
  const Json json = shmsnap::decode_snapshot(AllTypes::shmsnap_schema.descriptor, bytes_of(value));
  EXPECT_EQ(json.at("b"), true);
  EXPECT_EQ(json.at("i8v"), -8);
  EXPECT_EQ(json.at("i16v"), -1600);
  EXPECT_EQ(json.at("i32v"), -320000);
  EXPECT_EQ(json.at("i64v").get<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(json.at("u8v"), 255);
  EXPECT_EQ(json.at("u16v"), 65535);
  EXPECT_EQ(json.at("u32v"), 4294967295U);
  EXPECT_EQ(json.at("u64v").get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(json.at("f32v"), 1.5);
  EXPECT_EQ(json.at("f64v"), -2.25);
  EXPECT_EQ(json.at("text"), "hello");
  EXPECT_EQ(json.at("names"), Json({"ab", "cde", ""}));
  EXPECT_EQ(json.at("flags"), Json({true, false, true}));
  EXPECT_EQ(json.at("shorts"), Json({-1, 2, -3}));
  EXPECT_EQ(json.at("floats"), Json({0.25, -4.0}));
  EXPECT_EQ(json.at("matrix"), Json::parse("[[0,1,2],[10,11,12]]"));
  EXPECT_EQ(json.at("cube"), Json::parse("[[[0,0],[0,0]],[[0,7],[0,0]]]"));
  EXPECT_EQ(json.at("mode"), "reverse");
  EXPECT_EQ(json.at("modes"), Json({"forward", 42}));
  EXPECT_EQ(json.at("big"), "huge");
  EXPECT_EQ(json.at("outer").at("id"), 9);
  EXPECT_EQ(json.at("outer").at("inner"), Json::parse(R"({"flag":true,"value":3.5,"mode":"idle"})"));
  EXPECT_EQ(json.at("outer").at("inners").at(1).at("value"), -1.0);
  EXPECT_EQ(json.at("outer").at("tag"), "xy");
  EXPECT_EQ(json.at("outers").at(1).at("id"), 77);
  EXPECT_EQ(json.at("outers").at(1).at("inners").at(0).at("mode"), "forward");
  EXPECT_EQ(json.at("tail"), 0xab);
}

TEST(SchemaJson, EncodeRoundTripsEveryTypeToTheSameBytes) {
  const AllTypes value = sample();
  const SnapshotCodec codec(AllTypes::shmsnap_schema.descriptor);
  const std::vector<std::byte> encoded = codec.encode(codec.decode(bytes_of(value)));
  ASSERT_EQ(encoded.size(), sizeof(AllTypes));
  EXPECT_EQ(std::memcmp(encoded.data(), &value, sizeof value), 0);
  AllTypes copy;
  std::memcpy(static_cast<void*>(&copy), encoded.data(), sizeof copy);
  EXPECT_EQ(copy.i64v, value.i64v);
  EXPECT_EQ(copy.modes[1], value.modes[1]);
  EXPECT_EQ(copy.outers[1].inners[0].mode, AllTypes::Mode::forward);
}

TEST(SchemaJson, NonFiniteFloatsBecomeStringsAndBack) {
  AllTypes value = sample();
  value.f64v = std::numeric_limits<double>::quiet_NaN();
  value.f32v = -std::numeric_limits<float>::infinity();
  value.floats[0] = std::numeric_limits<float>::infinity();
  const SnapshotCodec codec(AllTypes::shmsnap_schema.descriptor);
  const Json json = codec.decode(bytes_of(value));
  EXPECT_EQ(json.at("f64v"), "NaN");
  EXPECT_EQ(json.at("f32v"), "-Infinity");
  EXPECT_EQ(json.at("floats").at(0), "Infinity");
  EXPECT_NO_THROW((void)json.dump());
  const auto encoded = codec.encode(json);
  AllTypes copy;
  std::memcpy(static_cast<void*>(&copy), encoded.data(), sizeof copy);
  EXPECT_TRUE(std::isnan(copy.f64v));
  EXPECT_EQ(copy.f32v, -std::numeric_limits<float>::infinity());
}

TEST(SchemaJson, NonFiniteFloatsCanDecodeAsNumbersSoTextStaysDistinct) {
  AllTypes value = sample();
  value.f64v = std::numeric_limits<double>::quiet_NaN();
  value.f32v = -std::numeric_limits<float>::infinity();
  std::memcpy(value.text, "NaN", 4);
  const SnapshotCodec codec(AllTypes::shmsnap_schema.descriptor);
  const Json json = codec.decode(bytes_of(value), SnapshotCodec::NonFinite::as_numbers);
  ASSERT_TRUE(json.at("f64v").is_number_float());
  EXPECT_TRUE(std::isnan(json.at("f64v").get<double>()));
  EXPECT_EQ(json.at("f32v").get<double>(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(json.at("text"), "NaN");  // a string, as before
  EXPECT_TRUE(codec.decode_ordered(bytes_of(value), SnapshotCodec::NonFinite::as_numbers).at("f64v").is_number_float());
}

TEST(SchemaJson, InvalidUtf8InStringsIsReplacedSoTheJsonStaysPrintable) {
  AllTypes value = sample();
  const char bad[5] = {'a', '\xff', '\xc3', '\xa9', '\xe2'};  // bad byte, "é", truncated sequence
  std::memcpy(value.text, bad, 5);
  const Json json = shmsnap::decode_snapshot(AllTypes::shmsnap_schema.descriptor, bytes_of(value));
  EXPECT_EQ(json.at("text"), "a\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd");
  EXPECT_NO_THROW((void)json.dump());
}

TEST(SchemaJson, DecodesNestedArraysOfTheBundledPose) {
  robot::Pose pose;
  std::memcpy(pose.frame_id, "map", 3);
  pose.stamp.sec = 1700000000;
  pose.position.z = 1.25;
  pose.orientation.w = 1.0;
  pose.covariance[5][4] = 0.5;
  const Json json = shmsnap::decode_snapshot(robot::Pose::shmsnap_schema.descriptor, bytes_of(pose));
  EXPECT_EQ(json.at("frame_id"), "map");
  EXPECT_EQ(json.at("stamp").at("sec"), 1700000000);
  EXPECT_EQ(json.at("position").at("z"), 1.25);
  EXPECT_EQ(json.at("orientation").at("w"), 1.0);
  ASSERT_EQ(json.at("covariance").size(), 6U);
  EXPECT_EQ(json.at("covariance").at(5).at(4), 0.5);
}

TEST(SchemaJson, OrderedDecodeKeepsLayoutOrder) {
  const market::QuoteBook book;
  const SnapshotCodec codec(market::QuoteBook::shmsnap_schema.descriptor);
  const auto json = codec.decode_ordered(bytes_of(book));
  std::vector<std::string> keys;
  for (const auto& [key, member] : json.items())
    keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"symbol", "sequence", "exchange_time_ns", "bid_price", "bid_size",
                                            "ask_price", "ask_size"}));
  EXPECT_EQ(codec.name(), "market.quote_book");
  EXPECT_EQ(codec.version(), 1U);
  EXPECT_EQ(codec.size(), sizeof(market::QuoteBook));
}

TEST(SchemaJson, ShortBufferIsAnInvalidArgument) {
  const AllTypes value = sample();
  try {
    (void)shmsnap::decode_snapshot(AllTypes::shmsnap_schema.descriptor, bytes_of(value).first(sizeof value - 1));
    FAIL() << "decoded a short buffer";
  } catch (const shmsnap::Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("needs 432 bytes but 431 were given"), std::string::npos) << e.what();
  }
}

TEST(SchemaJson, LongerBufferDecodesItsPrefix) {
  std::vector<std::byte> bytes(sizeof(market::QuoteBook) + 64, std::byte{0});
  EXPECT_NO_THROW((void)shmsnap::decode_snapshot(market::QuoteBook::shmsnap_schema.descriptor, bytes));
}

struct BadDescriptor {
  const char* name;
  std::string json;
  const char* reason;
};

void PrintTo(const BadDescriptor& c, std::ostream* os) {
  *os << c.name;
}

class SchemaJsonBadDescriptor : public ::testing::TestWithParam<BadDescriptor> {};

TEST_P(SchemaJsonBadDescriptor, IsAnInvalidRegionWithAReason) {
  const std::vector<std::byte> bytes(1024, std::byte{0x41});
  try {
    (void)shmsnap::decode_snapshot(GetParam().json, bytes);
    FAIL() << "accepted " << GetParam().json;
  } catch (const shmsnap::Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_region);
    EXPECT_NE(std::string(e.what()).find(GetParam().reason), std::string::npos) << e.what();
  }
}

std::string nested(int depth) {
  std::string json = R"({"name":"t","version":1,"size":1,"fields":[)";
  for (int i = 0; i < depth; ++i)
    json += R"({"name":"f","offset":0,"size":1,"type":"struct","struct":{"name":"S","size":1,"fields":[)";
  json += R"({"name":"x","offset":0,"size":1,"type":"u8"})";
  for (int i = 0; i < depth; ++i)
    json += "]}}";
  return json + "]}";
}

const std::string head = R"({"name":"t","version":1,"size":16,"fields":[)";

INSTANTIATE_TEST_SUITE_P(
    SchemaJson, SchemaJsonBadDescriptor,
    ::testing::Values(
        BadDescriptor{"NotJson", "{\"name\": ", "not JSON"},
        BadDescriptor{"NotAnObject", "[1,2]", "must be a JSON object"},
        BadDescriptor{"MissingFields", R"({"name":"t","version":1,"size":8})", "missing \"fields\""},
        BadDescriptor{"NegativeSize", R"({"name":"t","version":1,"size":-8,"fields":[]})",
                      "\"size\" must be a non-negative"},
        BadDescriptor{"UnknownType", head + R"({"name":"a","offset":0,"size":8,"type":"f128"}]})",
                      "unknown type \"f128\""},
        BadDescriptor{"PastTheEnd", head + R"({"name":"a","offset":12,"size":8,"type":"f64"}]})",
                      "fields[0] ('a'): offset 12 + size 8 runs past the end of its struct (16 bytes)"},
        BadDescriptor{"HugeOffset", head + R"({"name":"a","offset":18446744073709551615,"size":8,"type":"f64"}]})",
                      "exceeds"},
        BadDescriptor{"SizeDisagreesWithType", head + R"({"name":"a","offset":0,"size":4,"type":"f64"}]})",
                      "\"size\" 4 is not 1 x 8 bytes"},
        BadDescriptor{"CountDisagreesWithSize", head + R"({"name":"a","offset":0,"size":8,"type":"u16","count":8}]})",
                      "is not 8 x 2 bytes"},
        BadDescriptor{"ZeroCount", head + R"({"name":"a","offset":0,"size":0,"type":"u16","count":0}]})",
                      "\"count\" must be at least 1"},
        BadDescriptor{"DimsDisagreeWithCount",
                      head + R"({"name":"a","offset":0,"size":6,"type":"u8","count":6,"dims":[2,2]}]})",
                      "multiply to 4"},
        BadDescriptor{
            "Overlap",
            head + R"({"name":"a","offset":0,"size":8,"type":"f64"},{"name":"b","offset":4,"size":4,"type":"u32"}]})",
            "two fields overlap at offset 4"},
        BadDescriptor{
            "DuplicateName",
            head + R"({"name":"a","offset":0,"size":1,"type":"u8"},{"name":"a","offset":1,"size":1,"type":"u8"}]})",
            "duplicate field name"},
        BadDescriptor{"CharWithoutLength", head + R"({"name":"a","offset":0,"size":4,"type":"char"}]})",
                      "missing \"length\""},
        BadDescriptor{"StructWithoutBody", head + R"({"name":"a","offset":0,"size":4,"type":"struct"}]})",
                      "missing \"struct\""},
        BadDescriptor{
            "EnumValueOutOfRange",
            head +
                R"({"name":"a","offset":0,"size":1,"type":"enum","enum":{"name":"E","underlying":"u8","values":[{"name":"x","value":256}]}}]})",
            "value 256 does not fit u8"},
        BadDescriptor{
            "EnumFloatUnderlying",
            head +
                R"({"name":"a","offset":0,"size":4,"type":"enum","enum":{"name":"E","underlying":"f32","values":[]}}]})",
            "\"underlying\" must be one of"},
        BadDescriptor{"NestedTooDeep", nested(33), "structs nest deeper than 32"},
        BadDescriptor{"UnitNotAString", head + R"({"name":"a","offset":0,"size":8,"type":"f64","unit":5}]})",
                      "fields[0] ('a'): \"unit\" must be a string"},
        BadDescriptor{"UnitEmpty", head + R"({"name":"a","offset":0,"size":8,"type":"f64","unit":""}]})",
                      "\"unit\" must be 1..32 bytes long, not 0"},
        BadDescriptor{
            "UnitTooLong",
            head + R"({"name":"a","offset":0,"size":8,"type":"f64","unit":")" + std::string(33, 'm') + R"("}]})",
            "\"unit\" must be 1..32 bytes long, not 33"},
        BadDescriptor{"DescriptionTooLong",
                      head + R"({"name":"a","offset":0,"size":8,"type":"f64","description":")" + std::string(257, 'd') +
                          R"("}]})",
                      "\"description\" must be 1..256 bytes long, not 257"},
        BadDescriptor{"UnitWithTerminalEscape",
                      head + R"({"name":"a","offset":0,"size":8,"type":"f64","unit":"\u001b[2Jm"}]})",
                      "\"unit\" holds a control or text-direction character at byte 0"},
        BadDescriptor{"DescriptionWithNewline",
                      head + R"({"name":"a","offset":0,"size":8,"type":"f64","description":"a\nb"}]})",
                      "\"description\" holds a control or text-direction character at byte 1"},
        BadDescriptor{"UnitWithC1Control", head + R"({"name":"a","offset":0,"size":8,"type":"f64","unit":"m\u0085"}]})",
                      "\"unit\" holds a control or text-direction character at byte 1"},
        BadDescriptor{"DescriptionWithBidiOverride",
                      head + R"({"name":"a","offset":0,"size":8,"type":"f64","description":"ok \u202egnp.exe"}]})",
                      "\"description\" holds a control or text-direction character at byte 3"},
        BadDescriptor{"UnitOfInvalidUtf8",
                      head + "{\"name\":\"a\",\"offset\":0,\"size\":8,\"type\":\"f64\",\"unit\":\"\xc3\"}]}",
                      "not JSON"},
        BadDescriptor{"DescriptionInsideAStruct",
                      head + R"({"name":"s","offset":0,"size":1,"type":"struct","struct":{"name":"S","size":1,)"
                             R"("fields":[{"name":"x","offset":0,"size":1,"type":"u8","description":7}]}}]})",
                      "fields[0] ('s').struct.fields[0] ('x'): \"description\" must be a string"}),
    [](const ::testing::TestParamInfo<BadDescriptor>& param_info) { return std::string(param_info.param.name); });

TEST(SchemaJson, FieldNotesGiveUnitAndDescriptionByPath) {
  const SnapshotCodec codec(robot::Pose::shmsnap_schema.descriptor);
  const nlohmann::ordered_json notes = codec.field_notes();
  EXPECT_EQ(notes.at("stamp.sec").at("unit"), "s");
  EXPECT_EQ(notes.at("stamp.nanosec").at("unit"), "ns");
  EXPECT_EQ(notes.at("stamp.nanosec").at("description"), "0..999999999");
  EXPECT_EQ(notes.at("position.x").at("unit"), "m");
  EXPECT_FALSE(notes.at("position").contains("unit"));
  EXPECT_EQ(notes.at("position").at("description"), "Origin of the frame in the parent frame.");
  EXPECT_FALSE(notes.contains("orientation.w"));  // neither given: not listed
  // Layout order, nested fields after their struct.
  std::vector<std::string> keys;
  for (const auto& [key, note] : notes.items())
    keys.push_back(key);
  ASSERT_GE(keys.size(), 3U);
  EXPECT_EQ(keys[0], "frame_id");
  EXPECT_EQ(keys[1], "stamp");
  EXPECT_EQ(keys[2], "stamp.sec");
}

TEST(SchemaJson, FieldNotePathDropsArrayIndices) {
  EXPECT_EQ(SnapshotCodec::field_note_path("outers[1].inners[0].value"), "outers.inners.value");
  EXPECT_EQ(SnapshotCodec::field_note_path("bid_price"), "bid_price");
  EXPECT_EQ(SnapshotCodec::field_note_path("matrix[1][2]"), "matrix");
  EXPECT_EQ(SnapshotCodec::field_note_path("odd[name"), "odd[name");  // no ']': kept as it is
}

TEST(SchemaJson, DescriptorWithoutNotesStillReads) {
  // Written before units existed: no "unit" or "description" anywhere.
  const SnapshotCodec codec(AllTypes::shmsnap_schema.descriptor);
  EXPECT_EQ(codec.field_notes(), nlohmann::ordered_json::object());
  const std::string old_style =
      R"({"name":"t","version":1,"size":8,"fields":[{"name":"a","offset":0,"size":8,"type":"f64"}]})";
  EXPECT_EQ(SnapshotCodec(old_style).field_notes(), nlohmann::ordered_json::object());
}

TEST(SchemaJson, PrintableUtf8UnitsAndDescriptionsAreAccepted) {
  const std::string descriptor = R"({"name":"t","version":1,"size":8,"fields":[)"
                                 R"({"name":"a","offset":0,"size":8,"type":"f64","unit":"\u00b0C",)"
                                 R"("description":"Temp\u00e9rature \u2014 of the \u6e29\u5ea6 sensor"}]})";
  const nlohmann::ordered_json notes = SnapshotCodec(descriptor).field_notes();
  EXPECT_EQ(notes.at("a").at("unit"), "\u00b0C");
  EXPECT_EQ(notes.at("a").at("description"), "Temp\u00e9rature \u2014 of the \u6e29\u5ea6 sensor");
}

TEST(SchemaJson, DescriptorLargerThanTheBufferIsAnInvalidArgument) {
  const std::vector<std::byte> bytes(16);
  EXPECT_THROW((void)shmsnap::decode_snapshot(R"({"name":"t","version":1,"size":4096,"fields":[]})", bytes),
               shmsnap::Error);
}

TEST(SchemaJson, EncodeRefusesWhatDoesNotFit) {
  const SnapshotCodec codec(AllTypes::shmsnap_schema.descriptor);
  const auto refuses = [&](const Json& value, const std::string& reason) {
    try {
      (void)codec.encode(value);
      ADD_FAILURE() << "encoded " << value.dump();
    } catch (const shmsnap::Error& e) {
      EXPECT_EQ(e.code(), Errc::invalid_argument);
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
  };
  refuses(Json{{"nope", 1}}, "unknown field 'nope'");
  refuses(Json{{"u8v", 256}}, "u8v: 256 is out of range for u8");
  refuses(Json{{"i8v", -129}}, "i8v: -129 is out of range for i8");
  refuses(Json{{"u32v", -1}}, "out of range for u32");
  refuses(Json{{"text", "toolong"}}, "text: the string is 7 bytes; char[5] holds at most 5");
  refuses(Json{{"shorts", {1, 2}}}, "shorts: expected an array of 3 elements");
  refuses(Json{{"matrix", {{1, 2, 3}, {4, 5}}}}, "matrix[1]: expected an array of 3 elements");
  refuses(Json{{"mode", "sideways"}}, "'sideways' is not a value of enum Mode");
  refuses(Json{{"outer", {{"inner", {{"flag", 1}}}}}}, "outer.inner.flag: expected true or false");
  refuses(Json::array(), "expected an object");
  EXPECT_EQ(codec.encode(Json::object()), std::vector<std::byte>(sizeof(AllTypes)));  // all zero
}

}  // namespace
