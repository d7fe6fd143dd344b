// Encoding and bounds-checked parsing of the MCAP records in records.hpp.
#include "records.hpp"

#include <limits>

namespace shmsnap::mcap {

void Encoder::string(std::string_view text) {
  if (text.size() > std::numeric_limits<std::uint32_t>::max())
    throw FormatError("a string of " + std::to_string(text.size()) + " bytes does not fit MCAP's uint32 length");
  u32(static_cast<std::uint32_t>(text.size()));
  raw(text);
}

void Encoder::string_map(const StringMap& map) {
  std::string entries;
  Encoder inner(entries);
  for (const auto& [key, value] : map) {
    inner.string(key);
    inner.string(value);
  }
  string(entries);
}

std::uint64_t Decoder::integer(int bytes) {
  const std::string_view field = take(static_cast<std::uint64_t>(bytes));
  std::uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(field[static_cast<std::size_t>(i)]);
  return value;
}

std::string_view Decoder::take(std::uint64_t count) {
  if (count > remaining()) {
    throw FormatError("a field of " + std::to_string(count) + " bytes runs past the end of its record (" +
                      std::to_string(remaining()) + " bytes left)");
  }
  const std::string_view out = bytes_.substr(position_, static_cast<std::size_t>(count));
  position_ += static_cast<std::size_t>(count);
  return out;
}

std::string_view Decoder::string_view() {
  return take(u32());
}

StringMap Decoder::string_map() {
  Decoder entries(string_view());
  StringMap map;
  while (entries.remaining() > 0) {
    std::string key = entries.string();
    map[std::move(key)] = entries.string();
  }
  return map;
}

void append_record(std::string& out, Opcode opcode, std::string_view content) {
  Encoder encoder(out);
  encoder.u8(static_cast<std::uint8_t>(opcode));
  encoder.u64(content.size());
  encoder.raw(content);
}

std::string encode(const Header& record) {
  std::string out;
  Encoder e(out);
  e.string(record.profile);
  e.string(record.library);
  return out;
}

std::string encode(const Footer& record) {
  std::string out;
  Encoder e(out);
  e.u64(record.summary_start);
  e.u64(record.summary_offset_start);
  e.u32(record.summary_crc);
  return out;
}

std::string encode(const Schema& record) {
  std::string out;
  Encoder e(out);
  e.u16(record.id);
  e.string(record.name);
  e.string(record.encoding);
  e.string(record.data);
  return out;
}

std::string encode(const Channel& record) {
  std::string out;
  Encoder e(out);
  e.u16(record.id);
  e.u16(record.schema_id);
  e.string(record.topic);
  e.string(record.message_encoding);
  e.string_map(record.metadata);
  return out;
}

std::string encode(const ChunkIndex& record) {
  std::string out;
  Encoder e(out);
  e.u64(record.message_start_time);
  e.u64(record.message_end_time);
  e.u64(record.chunk_start_offset);
  e.u64(record.chunk_length);
  e.u32(static_cast<std::uint32_t>(record.message_index_offsets.size() * 10));
  for (const auto& [channel, offset] : record.message_index_offsets) {
    e.u16(channel);
    e.u64(offset);
  }
  e.u64(record.message_index_length);
  e.string(record.compression);
  e.u64(record.compressed_size);
  e.u64(record.uncompressed_size);
  return out;
}

std::string encode(const MessageIndex& record) {
  std::string out;
  Encoder e(out);
  e.u16(record.channel_id);
  e.u32(static_cast<std::uint32_t>(record.records.size() * 16));
  for (const auto& [time, offset] : record.records) {
    e.u64(time);
    e.u64(offset);
  }
  return out;
}

std::string encode(const Statistics& record) {
  std::string out;
  Encoder e(out);
  e.u64(record.message_count);
  e.u16(record.schema_count);
  e.u32(record.channel_count);
  e.u32(record.attachment_count);
  e.u32(record.metadata_count);
  e.u32(record.chunk_count);
  e.u64(record.message_start_time);
  e.u64(record.message_end_time);
  e.u32(static_cast<std::uint32_t>(record.channel_message_counts.size() * 10));
  for (const auto& [channel, count] : record.channel_message_counts) {
    e.u16(channel);
    e.u64(count);
  }
  return out;
}

std::string encode(const Metadata& record) {
  std::string out;
  Encoder e(out);
  e.string(record.name);
  e.string_map(record.metadata);
  return out;
}

std::string encode(const MetadataIndex& record) {
  std::string out;
  Encoder e(out);
  e.u64(record.offset);
  e.u64(record.length);
  e.string(record.name);
  return out;
}

std::string encode(const SummaryOffset& record) {
  std::string out;
  Encoder e(out);
  e.u8(static_cast<std::uint8_t>(record.group_opcode));
  e.u64(record.group_start);
  e.u64(record.group_length);
  return out;
}

void append_message(std::string& out, const Message& message) {
  Encoder e(out);
  e.u8(static_cast<std::uint8_t>(Opcode::message));
  e.u64(2 + 4 + 8 + 8 + message.data.size());
  e.u16(message.channel_id);
  e.u32(message.sequence);
  e.u64(message.log_time);
  e.u64(message.publish_time);
  e.raw(message.data);
}

void append_chunk(std::string& out, const Chunk& chunk) {
  Encoder e(out);
  e.u8(static_cast<std::uint8_t>(Opcode::chunk));
  e.u64(8 + 8 + 8 + 4 + 4 + chunk.compression.size() + 8 + chunk.records.size());
  e.u64(chunk.message_start_time);
  e.u64(chunk.message_end_time);
  e.u64(chunk.uncompressed_size);
  e.u32(chunk.uncompressed_crc);
  e.string(chunk.compression);
  e.u64(chunk.records.size());
  e.raw(chunk.records);
}

Header parse_header(std::string_view content) {
  Decoder d(content);
  Header out;
  out.profile = d.string();
  out.library = d.string();
  return out;
}

Footer parse_footer(std::string_view content) {
  Decoder d(content);
  Footer out;
  out.summary_start = d.u64();
  out.summary_offset_start = d.u64();
  out.summary_crc = d.u32();
  return out;
}

Schema parse_schema(std::string_view content) {
  Decoder d(content);
  Schema out;
  out.id = d.u16();
  out.name = d.string();
  out.encoding = d.string();
  out.data = d.string();
  return out;
}

Channel parse_channel(std::string_view content) {
  Decoder d(content);
  Channel out;
  out.id = d.u16();
  out.schema_id = d.u16();
  out.topic = d.string();
  out.message_encoding = d.string();
  out.metadata = d.string_map();
  return out;
}

Message parse_message(std::string_view content) {
  Decoder d(content);
  Message out;
  out.channel_id = d.u16();
  out.sequence = d.u32();
  out.log_time = d.u64();
  out.publish_time = d.u64();
  out.data = d.rest();
  return out;
}

Chunk parse_chunk(std::string_view content) {
  Decoder d(content);
  Chunk out;
  out.message_start_time = d.u64();
  out.message_end_time = d.u64();
  out.uncompressed_size = d.u64();
  out.uncompressed_crc = d.u32();
  out.compression = d.string();
  out.records = d.take(d.u64());
  return out;
}

Statistics parse_statistics(std::string_view content) {
  Decoder d(content);
  Statistics out;
  out.message_count = d.u64();
  out.schema_count = d.u16();
  out.channel_count = d.u32();
  out.attachment_count = d.u32();
  out.metadata_count = d.u32();
  out.chunk_count = d.u32();
  out.message_start_time = d.u64();
  out.message_end_time = d.u64();
  Decoder counts(d.string_view());
  while (counts.remaining() > 0) {
    const std::uint16_t channel = counts.u16();
    out.channel_message_counts[channel] = counts.u64();
  }
  return out;
}

Metadata parse_metadata(std::string_view content) {
  Decoder d(content);
  Metadata out;
  out.name = d.string();
  out.metadata = d.string_map();
  return out;
}

}  // namespace shmsnap::mcap
