// MCAP records (https://mcap.dev/spec, major version 0): opcodes, the record types
// shmsnap writes and reads, their little-endian encoding, and a bounds-checked
// cursor for parsing untrusted bytes. Pure functions over buffers: any thread.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shmsnap::mcap {

/// The 8 bytes that open and close every MCAP file: "\x89MCAP0\r\n".
inline constexpr std::string_view magic{"\x89MCAP0\r\n", 8};

/// Record opcodes.
enum class Opcode : std::uint8_t {
  header = 0x01,
  footer = 0x02,
  schema = 0x03,
  channel = 0x04,
  message = 0x05,
  chunk = 0x06,
  message_index = 0x07,
  chunk_index = 0x08,
  attachment = 0x09,
  attachment_index = 0x0a,
  statistics = 0x0b,
  metadata = 0x0c,
  metadata_index = 0x0d,
  summary_offset = 0x0e,
  data_end = 0x0f,
};

/// Bytes before a record's content: opcode (1) + content length (8).
inline constexpr std::size_t record_prefix_size = 9;

using StringMap = std::map<std::string, std::string>;

struct Header {
  std::string profile;
  std::string library;
};

struct Footer {
  std::uint64_t summary_start = 0;
  std::uint64_t summary_offset_start = 0;
  std::uint32_t summary_crc = 0;
};

struct Schema {
  std::uint16_t id = 0;  ///< 0 is reserved (no schema)
  std::string name;
  std::string encoding;
  std::string data;
};

struct Channel {
  std::uint16_t id = 0;
  std::uint16_t schema_id = 0;
  std::string topic;
  std::string message_encoding;
  StringMap metadata;
};

/// A message; `data` views the buffer it was parsed from.
struct Message {
  std::uint16_t channel_id = 0;
  std::uint32_t sequence = 0;
  std::uint64_t log_time = 0;
  std::uint64_t publish_time = 0;
  std::string_view data;
};

/// A chunk; `records` views the (compressed) bytes.
struct Chunk {
  std::uint64_t message_start_time = 0;
  std::uint64_t message_end_time = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint32_t uncompressed_crc = 0;
  std::string compression;
  std::string_view records;
};

struct MessageIndex {
  std::uint16_t channel_id = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> records;  ///< (log_time, offset in the chunk)
};

struct ChunkIndex {
  std::uint64_t message_start_time = 0;
  std::uint64_t message_end_time = 0;
  std::uint64_t chunk_start_offset = 0;
  std::uint64_t chunk_length = 0;
  std::map<std::uint16_t, std::uint64_t> message_index_offsets;
  std::uint64_t message_index_length = 0;
  std::string compression;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
};

struct Statistics {
  std::uint64_t message_count = 0;
  std::uint16_t schema_count = 0;
  std::uint32_t channel_count = 0;
  std::uint32_t attachment_count = 0;
  std::uint32_t metadata_count = 0;
  std::uint32_t chunk_count = 0;
  std::uint64_t message_start_time = 0;
  std::uint64_t message_end_time = 0;
  std::map<std::uint16_t, std::uint64_t> channel_message_counts;
};

struct Metadata {
  std::string name;
  StringMap metadata;
};

struct MetadataIndex {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::string name;
};

struct SummaryOffset {
  Opcode group_opcode = Opcode::schema;
  std::uint64_t group_start = 0;
  std::uint64_t group_length = 0;
};

/// Thrown by the parsers for malformed content; the reader adds the file and offset.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Appends little-endian primitives and MCAP strings, maps and records to a buffer.
class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}
  void u8(std::uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void u16(std::uint16_t value) { integer(value, 2); }
  void u32(std::uint32_t value) { integer(value, 4); }
  void u64(std::uint64_t value) { integer(value, 8); }
  /// uint32 length + bytes (strings and schema data).
  void string(std::string_view text);
  void raw(std::string_view bytes) { out_.append(bytes); }
  void string_map(const StringMap& map);

 private:
  void integer(std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i)
      out_.push_back(static_cast<char>((value >> (8 * i)) & 0xffU));
  }
  std::string& out_;
};

/// Reads little-endian primitives from untrusted bytes; throws FormatError rather
/// than reading past the end.
class Decoder {
 public:
  explicit Decoder(std::string_view bytes) : bytes_(bytes) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(integer(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(integer(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(integer(4)); }
  std::uint64_t u64() { return integer(8); }
  std::string_view string_view();
  std::string string() { return std::string(string_view()); }
  StringMap string_map();
  std::string_view take(std::uint64_t count);
  std::string_view rest() { return take(remaining()); }
  [[nodiscard]] std::size_t remaining() const noexcept { return bytes_.size() - position_; }
  [[nodiscard]] std::size_t position() const noexcept { return position_; }

 private:
  std::uint64_t integer(int bytes);
  std::string_view bytes_;
  std::size_t position_ = 0;
};

/// Appends opcode, content length and content.
void append_record(std::string& out, Opcode opcode, std::string_view content);

/// The content (without the opcode/length prefix) of a Header, Footer, Schema, Channel,
/// ChunkIndex, MessageIndex, Statistics, Metadata, MetadataIndex or SummaryOffset.
/// records.cpp instantiates it for exactly those, so another type does not link; a
/// Message or Chunk is appended whole by append_message() / append_chunk().
template <typename Record>
[[nodiscard]] std::string encode(const Record& record);
/// The fixed part of a Message followed by its data, appended to `out` as a record.
void append_message(std::string& out, const Message& message);
/// A Chunk record around already-compressed `records`, appended to `out`.
void append_chunk(std::string& out, const Chunk& chunk);

// Content parsers: throw FormatError. Extra trailing bytes are allowed (the spec lets
// records grow fields within a major version).
[[nodiscard]] Header parse_header(std::string_view content);
[[nodiscard]] Footer parse_footer(std::string_view content);
[[nodiscard]] Schema parse_schema(std::string_view content);
[[nodiscard]] Channel parse_channel(std::string_view content);
[[nodiscard]] Message parse_message(std::string_view content);
[[nodiscard]] Chunk parse_chunk(std::string_view content);
[[nodiscard]] Statistics parse_statistics(std::string_view content);
[[nodiscard]] Metadata parse_metadata(std::string_view content);

}  // namespace shmsnap::mcap
