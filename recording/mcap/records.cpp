// Encoding and bounds-checked parsing of the MCAP records in records.hpp.
#include "records.hpp"

#include <limits>
#include <tuple>
#include <type_traits>

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

namespace {

// Each record's fields in wire order, listed once: encode() and the parse_*() functions
// both walk this list, so the writer and the reader cannot disagree on a layout. How a
// field is encoded follows from its type (write_field / read_field below). A Message's
// data and a Chunk's records are not in the list: they run to the end of the record or
// carry a uint64 length, and their own functions handle them.
constexpr auto fields(std::type_identity<Header>) {
  return std::tuple{&Header::profile, &Header::library};
}
constexpr auto fields(std::type_identity<Footer>) {
  return std::tuple{&Footer::summary_start, &Footer::summary_offset_start, &Footer::summary_crc};
}
constexpr auto fields(std::type_identity<Schema>) {
  return std::tuple{&Schema::id, &Schema::name, &Schema::encoding, &Schema::data};
}
constexpr auto fields(std::type_identity<Channel>) {
  return std::tuple{&Channel::id, &Channel::schema_id, &Channel::topic, &Channel::message_encoding, &Channel::metadata};
}
constexpr auto fields(std::type_identity<Message>) {
  return std::tuple{&Message::channel_id, &Message::sequence, &Message::log_time, &Message::publish_time};
}
constexpr auto fields(std::type_identity<Chunk>) {
  return std::tuple{&Chunk::message_start_time, &Chunk::message_end_time, &Chunk::uncompressed_size,
                    &Chunk::uncompressed_crc, &Chunk::compression};
}
constexpr auto fields(std::type_identity<ChunkIndex>) {
  return std::tuple{
      &ChunkIndex::message_start_time, &ChunkIndex::message_end_time,      &ChunkIndex::chunk_start_offset,
      &ChunkIndex::chunk_length,       &ChunkIndex::message_index_offsets, &ChunkIndex::message_index_length,
      &ChunkIndex::compression,        &ChunkIndex::compressed_size,       &ChunkIndex::uncompressed_size};
}
constexpr auto fields(std::type_identity<MessageIndex>) {
  return std::tuple{&MessageIndex::channel_id, &MessageIndex::records};
}
constexpr auto fields(std::type_identity<Statistics>) {
  return std::tuple{
      &Statistics::message_count,      &Statistics::schema_count,     &Statistics::channel_count,
      &Statistics::attachment_count,   &Statistics::metadata_count,   &Statistics::chunk_count,
      &Statistics::message_start_time, &Statistics::message_end_time, &Statistics::channel_message_counts};
}
constexpr auto fields(std::type_identity<Metadata>) {
  return std::tuple{&Metadata::name, &Metadata::metadata};
}
constexpr auto fields(std::type_identity<MetadataIndex>) {
  return std::tuple{&MetadataIndex::offset, &MetadataIndex::length, &MetadataIndex::name};
}
constexpr auto fields(std::type_identity<SummaryOffset>) {
  return std::tuple{&SummaryOffset::group_opcode, &SummaryOffset::group_start, &SummaryOffset::group_length};
}

// A map from channel id to a count or offset: uint32 byte length, then (uint16, uint64) pairs.
using ChannelMap = std::map<std::uint16_t, std::uint64_t>;
constexpr std::uint32_t channel_map_entry_size = 2 + 8;
// MessageIndex entries: uint32 byte length, then (log_time, offset) uint64 pairs.
using TimeOffsets = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
constexpr std::uint32_t time_offset_entry_size = 8 + 8;

void write_field(Encoder& e, Opcode value) {
  e.u8(static_cast<std::uint8_t>(value));
}
void write_field(Encoder& e, std::uint16_t value) {
  e.u16(value);
}
void write_field(Encoder& e, std::uint32_t value) {
  e.u32(value);
}
void write_field(Encoder& e, std::uint64_t value) {
  e.u64(value);
}
void write_field(Encoder& e, const std::string& value) {
  e.string(value);
}
void write_field(Encoder& e, const StringMap& value) {
  e.string_map(value);
}
void write_field(Encoder& e, const ChannelMap& value) {
  e.u32(static_cast<std::uint32_t>(value.size() * channel_map_entry_size));
  for (const auto& [channel, number] : value) {
    e.u16(channel);
    e.u64(number);
  }
}
void write_field(Encoder& e, const TimeOffsets& value) {
  e.u32(static_cast<std::uint32_t>(value.size() * time_offset_entry_size));
  for (const auto& [time, offset] : value) {
    e.u64(time);
    e.u64(offset);
  }
}

void read_field(Decoder& d, std::uint16_t& value) {
  value = d.u16();
}
void read_field(Decoder& d, std::uint32_t& value) {
  value = d.u32();
}
void read_field(Decoder& d, std::uint64_t& value) {
  value = d.u64();
}
void read_field(Decoder& d, std::string& value) {
  value = d.string();
}
void read_field(Decoder& d, StringMap& value) {
  value = d.string_map();
}
void read_field(Decoder& d, ChannelMap& value) {
  Decoder entries(d.string_view());
  while (entries.remaining() > 0) {
    const std::uint16_t channel = entries.u16();
    value[channel] = entries.u64();
  }
}

template <typename Record>
void write_fields(Encoder& e, const Record& record) {
  std::apply([&](auto... member) { (write_field(e, record.*member), ...); }, fields(std::type_identity<Record>{}));
}

template <typename Record>
void read_fields(Decoder& d, Record& record) {
  std::apply([&](auto... member) { (read_field(d, record.*member), ...); }, fields(std::type_identity<Record>{}));
}

template <typename Record>
Record parse_fields(std::string_view content) {
  Decoder d(content);
  Record out;
  read_fields(d, out);
  return out;
}

}  // namespace

template <typename Record>
std::string encode(const Record& record) {
  std::string out;
  Encoder e(out);
  write_fields(e, record);
  return out;
}
template std::string encode(const Header&);
template std::string encode(const Footer&);
template std::string encode(const Schema&);
template std::string encode(const Channel&);
template std::string encode(const ChunkIndex&);
template std::string encode(const MessageIndex&);
template std::string encode(const Statistics&);
template std::string encode(const Metadata&);
template std::string encode(const MetadataIndex&);
template std::string encode(const SummaryOffset&);

void append_message(std::string& out, const Message& message) {
  Encoder e(out);
  e.u8(static_cast<std::uint8_t>(Opcode::message));
  e.u64(2 + 4 + 8 + 8 + message.data.size());
  write_fields(e, message);
  e.raw(message.data);
}

void append_chunk(std::string& out, const Chunk& chunk) {
  Encoder e(out);
  e.u8(static_cast<std::uint8_t>(Opcode::chunk));
  e.u64(8 + 8 + 8 + 4 + 4 + chunk.compression.size() + 8 + chunk.records.size());
  write_fields(e, chunk);
  e.u64(chunk.records.size());
  e.raw(chunk.records);
}

Header parse_header(std::string_view content) {
  return parse_fields<Header>(content);
}
Footer parse_footer(std::string_view content) {
  return parse_fields<Footer>(content);
}
Schema parse_schema(std::string_view content) {
  return parse_fields<Schema>(content);
}
Channel parse_channel(std::string_view content) {
  return parse_fields<Channel>(content);
}
Statistics parse_statistics(std::string_view content) {
  return parse_fields<Statistics>(content);
}
Metadata parse_metadata(std::string_view content) {
  return parse_fields<Metadata>(content);
}

Message parse_message(std::string_view content) {
  Decoder d(content);
  Message out;
  read_fields(d, out);
  out.data = d.rest();  // the payload runs to the end of the record
  return out;
}

Chunk parse_chunk(std::string_view content) {
  Decoder d(content);
  Chunk out;
  read_fields(d, out);
  out.records = d.take(d.u64());
  return out;
}

}  // namespace shmsnap::mcap
