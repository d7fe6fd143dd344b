// The forward scan of reader.hpp. Bounds are checked before every access; sizes
// taken from the file are compared against what is left before anything is
// allocated, and a chunk is validated in full before its messages are handed out,
// so a cut file yields exactly the messages of its complete chunks.
#include "reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "compression.hpp"
#include "crc32.hpp"
#include "shmsnap/error.hpp"

namespace shmsnap::mcap {

namespace {

struct Truncated {
  std::string why;
};

class Scanner {
 public:
  Scanner(std::string_view bytes, std::string_view name, const MessageHandler& on_message, const ReadOptions& options)
      : bytes_(bytes), name_(name), on_message_(on_message), options_(options) {}

  ScanResult run() {
    result_.file_size = bytes_.size();
    try {
      scan_all();
    } catch (const Truncated& cut) {
      result_.truncation = cut.why;
    } catch (const FormatError& e) {
      malformed(e.what());
    }
    return std::move(result_);
  }

 private:
  [[noreturn]] void malformed(const std::string& why) const {
    throw Error(Errc::invalid_argument, std::string(name_) + ": not a valid MCAP file: at byte " +
                                            std::to_string(record_offset_) + ": " + why +
                                            " (was it written by an MCAP writer and copied completely?)");
  }

  struct Record {
    Opcode opcode = Opcode::header;
    std::string_view content;
  };

  // The next record at position_, or Truncated when it does not fit in the file.
  Record next_record() {
    record_offset_ = position_;
    if (bytes_.size() - position_ < record_prefix_size) {
      throw Truncated{position_ == bytes_.size() ? "the file ends after byte " + std::to_string(position_) +
                                                       " without a footer (the writer did not finish)"
                                                 : "a record is cut off at byte " + std::to_string(position_)};
    }
    Decoder prefix(bytes_.substr(position_, record_prefix_size));
    const auto opcode = static_cast<Opcode>(prefix.u8());
    const std::uint64_t length = prefix.u64();
    if (length > bytes_.size() - position_ - record_prefix_size) {
      throw Truncated{"a record of " + std::to_string(length) + " bytes at byte " + std::to_string(position_) +
                      " runs past the end of the file (" + std::to_string(bytes_.size()) + " bytes)"};
    }
    const std::string_view content = bytes_.substr(position_ + record_prefix_size, static_cast<std::size_t>(length));
    position_ += record_prefix_size + static_cast<std::size_t>(length);
    return {opcode, content};
  }

  void scan_all() {
    if (bytes_.size() < magic.size()) {
      if (bytes_.empty() || magic.substr(0, bytes_.size()) != bytes_)
        malformed("the file is too short to be MCAP (" + std::to_string(bytes_.size()) + " bytes)");
      malformed("the file ends inside the leading magic: there is nothing to read");
    }
    if (bytes_.substr(0, magic.size()) != magic)
      malformed("it does not start with the MCAP magic bytes");
    position_ = magic.size();
    Record first{};
    try {
      first = next_record();
    } catch (const Truncated&) {
      malformed("the file ends inside its Header record: there is nothing to read");
    }
    if (first.opcode != Opcode::header)
      malformed("the first record is not a Header (opcode " + std::to_string(static_cast<int>(first.opcode)) + ")");
    result_.header = parse_header(first.content);

    for (;;) {
      const std::size_t data_end_at = position_;
      const Record record = next_record();
      if (record.opcode == Opcode::data_end) {
        check_data_crc(record, data_end_at);
        read_summary();
        return;
      }
      if (record.opcode == Opcode::footer)
        malformed("a Footer without a Data End record before it");
      data_record(record);
      if (result_.stopped)
        return;
    }
  }

  void check_data_crc(const Record& record, std::size_t data_end_at) {
    Decoder d(record.content);
    const std::uint32_t expected = d.u32();
    if (expected != 0 && crc32(bytes_.substr(0, data_end_at)) != expected)
      malformed("the data section CRC does not match (the file is damaged)");
  }

  void data_record(const Record& record) {
    switch (record.opcode) {
      case Opcode::schema:
        add_schema(parse_schema(record.content));
        break;
      case Opcode::channel:
        add_channel(parse_channel(record.content));
        break;
      case Opcode::message: {
        const Message message = parse_message(record.content);
        deliver(channel_of(message), message);
        break;
      }
      case Opcode::chunk:
        chunk(parse_chunk(record.content));
        break;
      case Opcode::metadata:
        result_.metadata.push_back(parse_metadata(record.content));
        ++result_.counted.metadata_count;
        break;
      case Opcode::header:
        malformed("a second Header record");
      default:
        break;  // indexes, attachments, unknown records: not needed for a forward read
    }
  }

  void add_schema(Schema schema) {
    if (schema.id == 0)
      malformed("a Schema with the reserved id 0");
    result_.schemas[schema.id] = std::move(schema);
    result_.counted.schema_count = static_cast<std::uint16_t>(result_.schemas.size());
  }

  void add_channel(Channel channel) {
    if (channel.schema_id != 0 && !result_.schemas.contains(channel.schema_id)) {
      malformed("channel " + std::to_string(channel.id) + " refers to schema " + std::to_string(channel.schema_id) +
                ", which no Schema record defined before it");
    }
    result_.counted.channel_message_counts.try_emplace(channel.id, 0);
    result_.channels[channel.id] = std::move(channel);
    result_.counted.channel_count = static_cast<std::uint32_t>(result_.channels.size());
  }

  const Channel& channel_of(const Message& message) {
    const auto it = result_.channels.find(message.channel_id);
    if (it == result_.channels.end())
      malformed("a message on channel " + std::to_string(message.channel_id) + ", which no Channel record defined");
    return it->second;
  }

  void deliver(const Channel& channel, const Message& message) {
    Statistics& counted = result_.counted;
    if (counted.message_count == 0) {
      counted.message_start_time = message.log_time;
      counted.message_end_time = message.log_time;
    }
    counted.message_start_time = std::min(counted.message_start_time, message.log_time);
    counted.message_end_time = std::max(counted.message_end_time, message.log_time);
    ++counted.message_count;
    ++counted.channel_message_counts[channel.id];
    if (!on_message_)
      return;
    const auto schema = result_.schemas.find(channel.schema_id);
    if (!on_message_(schema == result_.schemas.end() ? nullptr : &schema->second, channel, message))
      result_.stopped = true;
  }

  void chunk(const Chunk& chunk) {
    if (chunk.uncompressed_size > options_.max_chunk_size) {
      malformed("a chunk claims " + std::to_string(chunk.uncompressed_size) + " uncompressed bytes, more than the " +
                std::to_string(options_.max_chunk_size) + " this reader accepts");
    }
    const std::string records = decompress(chunk.compression, chunk.records, chunk.uncompressed_size);
    if (chunk.uncompressed_crc != 0 && crc32(records) != chunk.uncompressed_crc)
      malformed("a chunk's CRC does not match its content (the file is damaged)");
    // Validate the whole chunk before handing out any of its messages.
    std::vector<Message> messages;
    std::size_t at = 0;
    while (at < records.size()) {
      if (records.size() - at < record_prefix_size)
        malformed("a record inside a chunk is cut off");
      Decoder prefix(std::string_view(records).substr(at, record_prefix_size));
      const auto opcode = static_cast<Opcode>(prefix.u8());
      const std::uint64_t length = prefix.u64();
      if (length > records.size() - at - record_prefix_size)
        malformed("a record inside a chunk runs past the chunk's end");
      const std::string_view content =
          std::string_view(records).substr(at + record_prefix_size, static_cast<std::size_t>(length));
      at += record_prefix_size + static_cast<std::size_t>(length);
      switch (opcode) {
        case Opcode::schema:
          add_schema(parse_schema(content));
          break;
        case Opcode::channel:
          add_channel(parse_channel(content));
          break;
        case Opcode::message: {
          const Message message = parse_message(content);
          (void)channel_of(message);
          messages.push_back(message);
          break;
        }
        default:
          malformed("a chunk holds a record of opcode " + std::to_string(static_cast<int>(opcode)) +
                    " (only Schema, Channel and Message belong in chunks)");
      }
    }
    ++result_.counted.chunk_count;
    result_.compressed_chunk_bytes += chunk.records.size();
    result_.uncompressed_chunk_bytes += records.size();
    ++result_.compressions[chunk.compression];
    for (const Message& message : messages) {
      deliver(result_.channels.at(message.channel_id), message);
      if (result_.stopped)
        return;
    }
  }

  void read_summary() {
    const std::size_t summary_start = position_;
    for (;;) {
      const std::size_t at = position_;
      const Record record = next_record();
      if (record.opcode == Opcode::footer) {
        const Footer footer = parse_footer(record.content);
        if (footer.summary_start != 0 && footer.summary_start != summary_start)
          malformed("the footer's summary_start does not point at the summary");
        if (footer.summary_crc != 0) {
          const std::size_t crc_end = at + record_prefix_size + 16;
          if (crc32(bytes_.substr(summary_start, crc_end - summary_start)) != footer.summary_crc)
            malformed("the summary CRC does not match (the file is damaged)");
        }
        if (bytes_.size() - position_ < magic.size())
          throw Truncated{"the closing magic bytes are missing"};
        if (bytes_.substr(position_, magic.size()) != magic)
          malformed("the footer is not followed by the MCAP magic bytes");
        result_.complete = true;
        return;
      }
      if (record.opcode == Opcode::statistics)
        result_.summary_statistics = parse_statistics(record.content);
      else if (record.opcode == Opcode::schema)
        (void)parse_schema(record.content);
      else if (record.opcode == Opcode::channel)
        (void)parse_channel(record.content);
    }
  }

  std::string_view bytes_;
  std::string_view name_;
  const MessageHandler& on_message_;
  ReadOptions options_;
  std::size_t position_ = 0;
  std::size_t record_offset_ = 0;
  ScanResult result_;
};

}  // namespace

ScanResult scan(std::string_view bytes, std::string_view name, const MessageHandler& on_message,
                const ReadOptions& options) {
  return Scanner(bytes, name, on_message, options).run();
}

MappedFile::MappedFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int saved = errno;
    throw Error(saved == ENOENT   ? Errc::not_found
                : saved == EACCES ? Errc::permission_denied
                                  : Errc::system,
                "cannot open " + path + ": " + std::strerror(saved), saved);
  }
  struct stat status {};
  if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    ::close(fd);
    throw Error(Errc::invalid_argument, path + " is not a regular file: give an .mcap file");
  }
  size_ = static_cast<std::size_t>(status.st_size);
  if (size_ > 0) {
    void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapped == MAP_FAILED) {
      const int saved = errno;
      ::close(fd);
      throw Error(Errc::system, "cannot map " + path + ": " + std::strerror(saved), saved);
    }
    data_ = static_cast<const char*>(mapped);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr)
    ::munmap(const_cast<char*>(data_), size_);
}

}  // namespace shmsnap::mcap
