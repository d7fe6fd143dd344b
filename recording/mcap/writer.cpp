// The MCAP writer. A chunk and its message indexes go to the file in one write()
// loop; on any write failure the file is cut back to the end of the last complete
// chunk so what remains is a valid prefix (readers stop there; --recover adds a
// summary).
#include "writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crc32.hpp"
#include "shmsnap/error.hpp"

namespace shmsnap::mcap {

Writer::Writer(std::string path, WriterOptions options) : path_(std::move(path)), options_(std::move(options)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int saved = errno;
    throw Error(
        saved == EACCES ? Errc::permission_denied : Errc::system,
        "cannot create " + path_ + ": " + std::strerror(saved) + " (check that the directory exists and is writable)",
        saved);
  }
  data_crc_ = crc32_init;
  std::string start(magic);
  append_record(start, Opcode::header, encode(Header{options_.profile, options_.library}));
  write_all(start);
  if (error_) {
    ::close(fd_);
    fd_ = -1;
    throw_if_failed();
  }
  good_offset_ = file_offset_;
  if (options_.background)
    worker_ = std::thread([this] { run_worker(); });
}

Writer::~Writer() {
  try {
    finish();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor cannot report; finish() did
  }
}

std::uint16_t Writer::add_schema(std::string name, std::string encoding, std::string data) {
  Schema schema{static_cast<std::uint16_t>(schemas_.size() + 1), std::move(name), std::move(encoding), std::move(data)};
  if (schemas_.size() >= 0xfffe)
    throw Error(Errc::limit_exceeded, "an MCAP file holds at most 65534 schemas");
  append_record(open_.records, Opcode::schema, encode(schema));
  schemas_.push_back(std::move(schema));
  statistics_.schema_count = static_cast<std::uint16_t>(schemas_.size());
  return schemas_.back().id;
}

std::uint16_t Writer::add_channel(std::uint16_t schema_id, std::string topic, std::string message_encoding,
                                  StringMap metadata) {
  if (channels_.size() >= 0xffff)
    throw Error(Errc::limit_exceeded, "an MCAP file holds at most 65535 channels");
  Channel channel{static_cast<std::uint16_t>(channels_.size()), schema_id, std::move(topic),
                  std::move(message_encoding), std::move(metadata)};
  append_record(open_.records, Opcode::channel, encode(channel));
  statistics_.channel_message_counts[channel.id] = 0;
  channels_.push_back(std::move(channel));
  statistics_.channel_count = static_cast<std::uint32_t>(channels_.size());
  return channels_.back().id;
}

void Writer::add_message(const Message& message) {
  throw_if_failed();
  SHMSNAP_EXPECTS(!finished_ && message.channel_id < channels_.size());
  if (open_.indexes.empty()) {
    open_.start_time = message.log_time;
    open_.end_time = message.log_time;
  }
  open_.start_time = std::min(open_.start_time, message.log_time);
  open_.end_time = std::max(open_.end_time, message.log_time);
  open_.indexes[message.channel_id].emplace_back(message.log_time, open_.records.size());
  append_message(open_.records, message);

  if (statistics_.message_count == 0) {
    statistics_.message_start_time = message.log_time;
    statistics_.message_end_time = message.log_time;
  }
  statistics_.message_start_time = std::min(statistics_.message_start_time, message.log_time);
  statistics_.message_end_time = std::max(statistics_.message_end_time, message.log_time);
  ++statistics_.message_count;
  ++statistics_.channel_message_counts[message.channel_id];
  if (open_.records.size() >= options_.chunk_size)
    close_chunk();
}

void Writer::add_metadata(Metadata metadata) {
  throw_if_failed();
  SHMSNAP_EXPECTS(!finished_);
  ++statistics_.metadata_count;
  close_chunk(std::move(metadata));
}

void Writer::flush_chunk() {
  throw_if_failed();
  SHMSNAP_EXPECTS(!finished_);
  close_chunk();
}

void Writer::close_chunk(std::optional<Metadata> metadata) {
  Job job;
  // Schema and Channel records wait for the first message of their chunk: a chunk
  // without messages would carry no times, and the summary repeats them anyway.
  if (!open_.indexes.empty()) {
    std::swap(job, open_);
    job.has_chunk = true;
    ++statistics_.chunk_count;
    uncompressed_bytes_ += job.records.size();
    open_.records.reserve(options_.chunk_size + options_.chunk_size / 8);
  }
  job.metadata = std::move(metadata);
  if (job.has_chunk || job.metadata)
    submit(std::move(job));
}

void Writer::submit(Job job) {
  if (!options_.background) {
    process(job);
    return;
  }
  std::unique_lock lock(mutex_);
  // Back-pressure: the producer waits rather than letting memory grow without bound.
  changed_.wait(lock, [&] { return queue_.size() < options_.max_pending_chunks || error_; });
  queue_.push_back(std::move(job));
  changed_.notify_all();
}

void Writer::run_worker() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty())
        return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    process(job);
    changed_.notify_all();
  }
}

void Writer::process(Job& job) {
  {
    const std::lock_guard lock(mutex_);
    if (error_)
      return;
  }
  std::string out;
  std::optional<ChunkIndex> chunk_index;
  std::optional<MetadataIndex> metadata_index;
  if (job.has_chunk) {
    ChunkIndex index;
    index.message_start_time = job.start_time;
    index.message_end_time = job.end_time;
    index.chunk_start_offset = file_offset_;
    index.compression = std::string(compression_name(options_.compression));
    index.uncompressed_size = job.records.size();
    std::string compressed;
    try {
      compressed = compress(options_.compression, job.records);
    } catch (const Error& e) {
      fail(e.what(), 0);
      return;
    }
    index.compressed_size = compressed.size();
    Chunk chunk{job.start_time, job.end_time, job.records.size(), crc32(job.records), index.compression, compressed};
    append_chunk(out, chunk);
    index.chunk_length = out.size();
    for (const auto& [channel, entries] : job.indexes) {
      index.message_index_offsets[channel] = file_offset_ + out.size();
      append_record(out, Opcode::message_index, encode(MessageIndex{channel, entries}));
    }
    index.message_index_length = out.size() - index.chunk_length;
    chunk_index = std::move(index);
  }
  if (job.metadata) {
    const std::uint64_t offset = file_offset_ + out.size();
    append_record(out, Opcode::metadata, encode(*job.metadata));
    metadata_index = MetadataIndex{offset, file_offset_ + out.size() - offset, job.metadata->name};
  }
  write_all(out);
  const std::lock_guard lock(mutex_);
  if (error_)
    return;
  good_offset_ = file_offset_;
  // Only what reached the file counts: the summary must describe the file.
  if (chunk_index) {
    chunk_indexes_.push_back(std::move(*chunk_index));
    ++written_.chunk_count;
    if (written_.message_count == 0 || job.start_time < written_.message_start_time)
      written_.message_start_time = job.start_time;
    written_.message_end_time = std::max(written_.message_end_time, job.end_time);
    for (const auto& [channel, entries] : job.indexes) {
      written_.channel_message_counts[channel] += entries.size();
      written_.message_count += entries.size();
    }
  }
  if (metadata_index) {
    metadata_indexes_.push_back(std::move(*metadata_index));
    ++written_.metadata_count;
  }
}

void Writer::write_all(std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      const int saved = n < 0 ? errno : ENOSPC;
      fail(std::string("cannot write ") + path_ + ": " + std::strerror(saved) +
               (saved == ENOSPC || saved == EFBIG || saved == EDQUOT
                    ? " (free space on its filesystem or record to another one)"
                    : ""),
           saved);
      return;
    }
    done += static_cast<std::size_t>(n);
  }
  data_crc_ = crc32_update(data_crc_, bytes);
  file_offset_ += bytes.size();
}

void Writer::fail(const std::string& why, int os_errno) {
  const std::lock_guard lock(mutex_);
  if (error_)
    return;
  error_ = why;
  error_errno_ = os_errno;
  // Cut off a partly written chunk so the file is a clean prefix.
  if (fd_ >= 0 && ::ftruncate(fd_, static_cast<off_t>(good_offset_)) == 0)
    (void)::lseek(fd_, static_cast<off_t>(good_offset_), SEEK_SET);
  changed_.notify_all();
}

void Writer::throw_if_failed() {
  const std::lock_guard lock(mutex_);
  if (error_) {
    throw Error(
        error_errno_ == ENOSPC || error_errno_ == EDQUOT || error_errno_ == EFBIG ? Errc::out_of_space : Errc::system,
        *error_, error_errno_);
  }
}

void Writer::write_summary() {
  std::string out;
  append_record(out, Opcode::data_end, [&] {
    std::string content;
    Encoder(content).u32(crc32_final(data_crc_));
    return content;
  }());
  const std::uint64_t summary_start = file_offset_ + out.size();
  std::vector<SummaryOffset> offsets;
  const auto group = [&](Opcode opcode, const auto& records) {
    if (records.empty())
      return;
    const std::uint64_t start = file_offset_ + out.size();
    for (const auto& record : records)
      append_record(out, opcode, encode(record));
    offsets.push_back(SummaryOffset{opcode, start, file_offset_ + out.size() - start});
  };
  group(Opcode::schema, schemas_);
  group(Opcode::channel, channels_);
  Statistics statistics = written_;
  statistics.schema_count = statistics_.schema_count;
  statistics.channel_count = statistics_.channel_count;
  for (const auto& channel : channels_)
    statistics.channel_message_counts.try_emplace(channel.id, 0);
  group(Opcode::statistics, std::vector<Statistics>{statistics});
  group(Opcode::chunk_index, chunk_indexes_);
  group(Opcode::metadata_index, metadata_indexes_);
  const std::uint64_t summary_offset_start = file_offset_ + out.size();
  for (const auto& offset : offsets)
    append_record(out, Opcode::summary_offset, encode(offset));
  // The footer's CRC covers the summary through the footer's own offset fields.
  std::string footer_prefix;
  Encoder footer(footer_prefix);
  footer.u8(static_cast<std::uint8_t>(Opcode::footer));
  footer.u64(8 + 8 + 4);
  footer.u64(summary_start);
  footer.u64(summary_offset_start);
  const std::size_t summary_in_out = static_cast<std::size_t>(summary_start - file_offset_);
  std::uint32_t crc = crc32_update(crc32_init, std::string_view(out).substr(summary_in_out));
  crc = crc32_update(crc, footer_prefix);
  out += footer_prefix;
  Encoder(out).u32(crc32_final(crc));
  out += magic;
  write_all(out);
}

void Writer::finish() {
  if (finished_)
    return;
  finished_ = true;
  close_chunk();
  if (worker_.joinable()) {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    worker_.join();
  }
  std::optional<std::string> failure;
  {
    const std::lock_guard lock(mutex_);
    failure = std::exchange(error_, std::nullopt);
  }
  // Also after a failed write (a full disk): the file was cut back to its last
  // complete chunk, and the small summary often still fits there.
  const int failure_errno = error_errno_;
  write_summary();
  bool summary_written = false;
  {
    const std::lock_guard lock(mutex_);
    summary_written = !error_.has_value();
    if (failure) {
      error_ = *failure + (summary_written ? "; the file was finished after its last complete chunk"
                                           : "; the file ends after its last complete chunk: run 'shmsnap record "
                                             "--recover " +
                                                 path_ + " OUT.mcap' to add a summary");
      error_errno_ = failure_errno;
    }
  }
  if (summary_written && ::fdatasync(fd_) != 0 && errno != EINVAL && errno != EROFS)
    fail(std::string("cannot flush ") + path_ + ": " + std::strerror(errno), errno);
  ::close(fd_);
  fd_ = -1;
  throw_if_failed();
}

}  // namespace shmsnap::mcap
