// An MCAP reader for untrusted files: one forward scan over the bytes that
// validates the magic, every record's bounds, chunk CRCs and sizes, the data section
// CRC and the summary CRC, and hands every message to a callback. A file that was
// cut short (a recorder killed, a disk that filled) reads up to its last complete
// chunk and says where it stopped; anything else malformed is an Error naming the
// offset. Stateless: any thread, any number at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "records.hpp"

namespace shmsnap::mcap {

struct ReadOptions {
  /// A chunk claiming more uncompressed bytes is refused (hostile files).
  std::uint64_t max_chunk_size = 256ULL << 20;
};

/// What a scan found.
struct ScanResult {
  Header header;
  std::map<std::uint16_t, Schema> schemas;
  std::map<std::uint16_t, Channel> channels;
  std::vector<Metadata> metadata;
  /// Counted by the scan: messages, per-channel counts, times, chunks, metadata.
  Statistics counted;
  /// The file's own Statistics record, when it has a summary.
  std::optional<Statistics> summary_statistics;
  std::uint64_t compressed_chunk_bytes = 0;           ///< chunk payloads as stored
  std::uint64_t uncompressed_chunk_bytes = 0;         ///< chunk payloads decompressed
  std::map<std::string, std::uint64_t> compressions;  ///< chunks per compression ("" = none)
  bool complete = false;                              ///< data end, summary, footer and closing magic are all there
  bool stopped = false;                               ///< the handler asked to stop
  std::string truncation;                             ///< why a cut file ended early ("" when complete)
  std::uint64_t file_size = 0;
};

/// Called for each message in file order with its channel and that channel's schema
/// (nullptr for schema id 0); return false to stop the scan.
using MessageHandler = std::function<bool(const Schema* schema, const Channel& channel, const Message& message)>;

/// Scans `bytes` (a whole file). `name` is used in messages. Throws
/// shmsnap::Error{invalid_argument} for malformed input.
ScanResult scan(std::string_view bytes, std::string_view name, const MessageHandler& on_message,
                const ReadOptions& options = {});

/// A read-only memory mapping of a whole file.
class MappedFile {
 public:
  /// Throws Error{not_found, permission_denied, system}.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  [[nodiscard]] std::string_view bytes() const noexcept { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace shmsnap::mcap
