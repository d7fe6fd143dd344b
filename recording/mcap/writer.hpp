// An MCAP writer: header, schemas and channels, messages in compressed chunks with
// message indexes, metadata, and at finish() a summary (schemas, channels,
// statistics, chunk and metadata indexes, summary offsets) and the footer, all with
// CRCs. Every chunk reaches the file in one piece, so a writer killed at any instant
// leaves a file readable up to its last complete chunk.
//
// One producer thread calls add_*() and finish(); with `background` the chunks are
// compressed and written on a worker thread, at most `max_pending_chunks` behind, so
// memory stays bounded by (max_pending_chunks + 1) x chunk_size.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "compression.hpp"
#include "records.hpp"

namespace shmsnap::mcap {

struct WriterOptions {
  Compression compression = Compression::zstd;
  std::size_t chunk_size = 1U << 20;  ///< uncompressed bytes that close a chunk
  std::string profile;                ///< the Header's profile ("" = none)
  std::string library;                ///< the Header's library, e.g. "shmsnap 0.1.0"
  bool background = true;             ///< compress and write on a worker thread
  std::size_t max_pending_chunks = 2;
};

class Writer {
 public:
  /// Creates (truncates) `path` and writes the magic and header. Throws Error.
  Writer(std::string path, WriterOptions options);
  /// Finishes the file if finish() was not called, ignoring errors.
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  /// Registers a schema; returns its id (1, 2, ...).
  std::uint16_t add_schema(std::string name, std::string encoding, std::string data);
  /// Registers a channel; returns its id (0, 1, ...).
  std::uint16_t add_channel(std::uint16_t schema_id, std::string topic, std::string message_encoding,
                            StringMap metadata);
  /// Appends a message to the open chunk (message.channel_id must be registered).
  /// Throws Error when an earlier write failed (the file is then already finished up
  /// to its last complete chunk).
  void add_message(const Message& message);
  /// Closes the open chunk and writes a Metadata record.
  void add_metadata(Metadata metadata);
  /// Closes the open chunk now if it holds a message, so it reaches the file without
  /// waiting for chunk_size bytes: a caller that flushes on a time bound limits what
  /// a SIGKILL can take to that bound. Throws Error like add_message().
  void flush_chunk();
  /// True when the open chunk holds at least one message (not yet handed to the file).
  [[nodiscard]] bool chunk_pending() const noexcept { return !open_.indexes.empty(); }
  /// Closes the open chunk, writes the summary and footer, closes the file. Throws
  /// Error when a write fails; the file then ends after its last complete chunk and
  /// `shmsnap record --recover` can add the summary. Idempotent.
  void finish();

  /// Counts of what was added so far (producer thread).
  [[nodiscard]] const Statistics& statistics() const noexcept { return statistics_; }
  /// Counts of what reached the file, as its summary says (valid after finish()).
  [[nodiscard]] const Statistics& written_statistics() const noexcept { return written_; }
  /// Bytes in the file (valid after finish()).
  [[nodiscard]] std::uint64_t file_size() const noexcept { return file_offset_; }
  /// Uncompressed bytes of all chunk records so far.
  [[nodiscard]] std::uint64_t uncompressed_bytes() const noexcept { return uncompressed_bytes_; }

 private:
  struct Job {
    bool has_chunk = false;
    std::string records;
    std::uint64_t start_time = 0;
    std::uint64_t end_time = 0;
    std::map<std::uint16_t, std::vector<std::pair<std::uint64_t, std::uint64_t>>> indexes;
    std::optional<Metadata> metadata;
  };

  void close_chunk(std::optional<Metadata> metadata = std::nullopt);
  void submit(Job job);
  void run_worker();
  void process(Job& job);
  void write_all(std::string_view bytes);
  void throw_if_failed();
  void fail(const std::string& why, int os_errno);
  void write_summary();

  std::string path_;
  WriterOptions options_;
  int fd_ = -1;
  bool finished_ = false;

  // Producer thread.
  std::vector<Schema> schemas_;
  std::vector<Channel> channels_;
  Statistics statistics_;
  Job open_;
  std::uint64_t uncompressed_bytes_ = 0;

  // Worker thread (or the producer without `background`); read by the producer
  // only after the worker joined.
  std::uint64_t file_offset_ = 0;
  std::uint64_t good_offset_ = 0;  ///< end of the last complete record group
  std::uint32_t data_crc_ = 0;
  std::vector<ChunkIndex> chunk_indexes_;
  std::vector<MetadataIndex> metadata_indexes_;
  Statistics written_;  ///< messages, chunks, metadata that reached the file

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::optional<std::string> error_;  ///< set once a write failed
  int error_errno_ = 0;
  std::thread worker_;
};

}  // namespace shmsnap::mcap
