// `shmsnap info`: what an MCAP recording holds (topics, schemas, counts, duration,
// rates, compression ratio), as text or JSON. Reads the whole file once.
#pragma once

#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

namespace shmsnap::recording {

/// Scans `path` and describes it as JSON: file, complete, truncation, library,
/// messages, chunks, duration_s, compression {name: chunks}, compressed_bytes,
/// uncompressed_bytes, ratio, channels [{id, topic, message_encoding, schema,
/// schema_encoding, messages, rate_hz}], statistics (the file's summary), metadata.
/// Strings from the file are valid UTF-8 (each invalid byte becomes U+FFFD, see
/// valid_utf8()). Throws Error for a missing or malformed file.
[[nodiscard]] nlohmann::ordered_json describe(const std::string& path);

/// Prints describe(path) for people, every string escaped with printable() so the
/// file cannot reach the terminal with control characters.
void print_info(const nlohmann::ordered_json& description, std::ostream& out);

}  // namespace shmsnap::recording
