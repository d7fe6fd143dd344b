// The MCAP writer against the specification, without trusting our own reader: the
// test walks footer -> summary offsets -> groups -> chunk indexes -> chunks ->
// message indexes -> messages by offset and checks each lands on the record it
// names. Then the reader: a round trip of every message, and CRC damage detected.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "mcap/compression.hpp"
#include "mcap/crc32.hpp"
#include "mcap/reader.hpp"
#include "mcap/records.hpp"
#include "mcap/writer.hpp"
#include "shmsnap/error.hpp"
#include "support/process_runner.hpp"

namespace {

using namespace shmsnap::mcap;

struct RecordAt {
  Opcode opcode;
  std::string_view content;
  std::size_t length;  // with prefix
};

RecordAt record_at(std::string_view bytes, std::uint64_t offset) {
  EXPECT_LE(offset + record_prefix_size, bytes.size());
  Decoder prefix(bytes.substr(static_cast<std::size_t>(offset), record_prefix_size));
  const auto opcode = static_cast<Opcode>(prefix.u8());
  const std::uint64_t length = prefix.u64();
  return {opcode, bytes.substr(static_cast<std::size_t>(offset) + record_prefix_size, static_cast<std::size_t>(length)),
          static_cast<std::size_t>(record_prefix_size + length)};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Case {
  Compression compression;
  bool background;
};

class McapFormat : public ::testing::TestWithParam<Case> {
 protected:
  void TearDown() override { std::filesystem::remove(path_); }
  const std::string path_ =
      (std::filesystem::temp_directory_path() / ("mcap_format_" + shmsnap::test::unique_prefix() + ".mcap")).string();
};

TEST_P(McapFormat, IndexesPointAtWhatTheyName) {
  std::map<std::uint16_t, std::vector<std::string>> sent;
  {
    Writer writer(path_, WriterOptions{.compression = GetParam().compression,
                                       .chunk_size = 3000,
                                       .library = "test",
                                       .background = GetParam().background});
    const std::uint16_t schema = writer.add_schema("s", "shmsnap.descriptor", "{}");
    const std::uint16_t a = writer.add_channel(schema, "a", "shmsnap.raw", {{"k", "v"}});
    const std::uint16_t b = writer.add_channel(0, "b", "json", {});
    writer.add_metadata(Metadata{"start", {{"x", "1"}}});
    for (std::uint32_t i = 0; i < 200; ++i) {
      const std::uint16_t channel = i % 3 == 0 ? b : a;
      std::string data(static_cast<std::size_t>(10 + i % 50), static_cast<char>('a' + i % 26));
      writer.add_message(Message{channel, i, 1000 + i, 900 + i, data});
      sent[channel].push_back(std::move(data));
    }
    writer.add_metadata(Metadata{"end", {}});
    writer.finish();
  }
  const std::string file = read_file(path_);
  const std::string_view bytes(file);
  ASSERT_EQ(bytes.substr(0, 8), magic);
  ASSERT_EQ(bytes.substr(bytes.size() - 8), magic);
  const RecordAt footer_record = record_at(bytes, bytes.size() - 8 - record_prefix_size - 20);
  ASSERT_EQ(footer_record.opcode, Opcode::footer);
  const Footer footer = parse_footer(footer_record.content);
  EXPECT_EQ(footer.summary_crc,
            crc32(bytes.substr(static_cast<std::size_t>(footer.summary_start),
                               bytes.size() - 8 - 4 - static_cast<std::size_t>(footer.summary_start))));
  // Data End just before the summary, with the CRC of everything before it.
  const std::size_t data_end_at = static_cast<std::size_t>(footer.summary_start) - record_prefix_size - 4;
  const RecordAt data_end = record_at(bytes, data_end_at);
  ASSERT_EQ(data_end.opcode, Opcode::data_end);
  EXPECT_EQ(Decoder(data_end.content).u32(), crc32(bytes.substr(0, data_end_at)));

  // Summary offsets -> groups of records of one opcode, exactly group_length long.
  std::map<Opcode, std::vector<RecordAt>> groups;
  for (std::uint64_t at = footer.summary_offset_start; at < bytes.size() - 8 - footer_record.length;) {
    const RecordAt record = record_at(bytes, at);
    ASSERT_EQ(record.opcode, Opcode::summary_offset);
    Decoder d(record.content);
    const auto group_opcode = static_cast<Opcode>(d.u8());
    const std::uint64_t start = d.u64();
    const std::uint64_t length = d.u64();
    for (std::uint64_t g = start; g < start + length;) {
      const RecordAt member = record_at(bytes, g);
      EXPECT_EQ(member.opcode, group_opcode);
      groups[group_opcode].push_back(member);
      g += member.length;
    }
    at += record.length;
  }
  EXPECT_EQ(groups[Opcode::schema].size(), 1U);
  EXPECT_EQ(groups[Opcode::channel].size(), 2U);
  EXPECT_EQ(groups[Opcode::metadata_index].size(), 2U);
  ASSERT_EQ(groups[Opcode::statistics].size(), 1U);
  const Statistics statistics = parse_statistics(groups[Opcode::statistics][0].content);
  EXPECT_EQ(statistics.message_count, 200U);
  EXPECT_EQ(statistics.channel_message_counts.at(0), sent[0].size());
  EXPECT_EQ(statistics.channel_message_counts.at(1), sent[1].size());
  EXPECT_EQ(statistics.message_start_time, 1000U);
  EXPECT_EQ(statistics.message_end_time, 1199U);
  EXPECT_EQ(statistics.metadata_count, 2U);
  EXPECT_EQ(statistics.chunk_count, groups[Opcode::chunk_index].size());
  EXPECT_GT(statistics.chunk_count, 3U);

  // Chunk indexes -> chunks -> message indexes -> messages.
  std::map<std::uint16_t, std::vector<std::string>> found;
  for (const RecordAt& index_record : groups[Opcode::chunk_index]) {
    Decoder d(index_record.content);
    const std::uint64_t start_time = d.u64();
    const std::uint64_t end_time = d.u64();
    const std::uint64_t chunk_offset = d.u64();
    const std::uint64_t chunk_length = d.u64();
    std::map<std::uint16_t, std::uint64_t> index_offsets;
    Decoder offsets(d.string_view());
    while (offsets.remaining() > 0) {
      const std::uint16_t channel = offsets.u16();
      index_offsets[channel] = offsets.u64();
    }
    const std::uint64_t index_length = d.u64();
    const std::string compression = d.string();
    const std::uint64_t compressed_size = d.u64();
    const std::uint64_t uncompressed_size = d.u64();
    EXPECT_EQ(compression, compression_name(GetParam().compression));
    const RecordAt chunk_record = record_at(bytes, chunk_offset);
    ASSERT_EQ(chunk_record.opcode, Opcode::chunk);
    EXPECT_EQ(chunk_record.length, chunk_length);
    const Chunk chunk = parse_chunk(chunk_record.content);
    EXPECT_EQ(chunk.message_start_time, start_time);
    EXPECT_EQ(chunk.message_end_time, end_time);
    EXPECT_EQ(chunk.records.size(), compressed_size);
    EXPECT_EQ(chunk.uncompressed_size, uncompressed_size);
    const std::string records = decompress(chunk.compression, chunk.records, chunk.uncompressed_size);
    EXPECT_EQ(crc32(records), chunk.uncompressed_crc);
    std::uint64_t indexes_total = 0;
    for (const auto& [channel, offset] : index_offsets) {
      const RecordAt message_index = record_at(bytes, offset);
      ASSERT_EQ(message_index.opcode, Opcode::message_index);
      indexes_total += message_index.length;
      Decoder entries_decoder(message_index.content);
      EXPECT_EQ(entries_decoder.u16(), channel);
      Decoder entries(entries_decoder.string_view());
      while (entries.remaining() > 0) {
        const std::uint64_t log_time = entries.u64();
        const std::uint64_t message_offset = entries.u64();
        const RecordAt message_record = record_at(records, message_offset);
        ASSERT_EQ(message_record.opcode, Opcode::message);
        const Message message = parse_message(message_record.content);
        EXPECT_EQ(message.channel_id, channel);
        EXPECT_EQ(message.log_time, log_time);
        found[channel].emplace_back(message.data);
      }
    }
    EXPECT_EQ(indexes_total, index_length);
    EXPECT_EQ(chunk_offset + chunk_length + index_length >= chunk_offset, true);
  }
  EXPECT_EQ(found, sent);

  // Our reader: every message back, in order, and the file complete.
  std::map<std::uint16_t, std::vector<std::string>> scanned;
  const ScanResult result = scan(bytes, path_, [&](const Schema*, const Channel& channel, const Message& message) {
    scanned[channel.id].emplace_back(message.data);
    return true;
  });
  EXPECT_TRUE(result.complete) << result.truncation;
  EXPECT_EQ(scanned, sent);
  EXPECT_EQ(result.metadata.size(), 2U);
}

INSTANTIATE_TEST_SUITE_P(Compressions, McapFormat,
                         ::testing::Values(Case{Compression::zstd, true}, Case{Compression::lz4, true},
                                           Case{Compression::none, true}, Case{Compression::zstd, false}));

TEST(McapReader, DamageAnywhereInTheDataSectionIsDetected) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("mcap_damage_" + shmsnap::test::unique_prefix() + ".mcap")).string();
  {
    Writer writer(path, WriterOptions{.compression = Compression::none, .chunk_size = 500, .background = false});
    const std::uint16_t channel = writer.add_channel(0, "t", "x", {});
    for (std::uint32_t i = 0; i < 50; ++i)
      writer.add_message(Message{channel, i, i, i, std::string(20, 'q')});
    writer.finish();
  }
  const std::string file = read_file(path);
  std::filesystem::remove(path);
  const ScanResult whole = scan(file, path, nullptr);
  ASSERT_TRUE(whole.complete);
  // Flip one bit at each offset of the data section: the reader either throws or,
  // when the flip only shortens a length, reports a cut file; it never returns a
  // complete file with other content.
  for (std::size_t at = 8; at < file.size() - 8; at += 7) {
    std::string damaged = file;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    try {
      const ScanResult result = scan(damaged, path, nullptr);
      EXPECT_FALSE(result.complete && result.counted.message_count == whole.counted.message_count &&
                   at < file.size() - 8 - 29)
          << "undetected damage at byte " << at;
    } catch (const shmsnap::Error& e) {
      EXPECT_EQ(e.code(), shmsnap::Errc::invalid_argument);
    }
  }
}

}  // namespace
