// `shmsnap info`: one scan, then a report.
#include "info.hpp"

#include <cstdio>
#include <iomanip>

#include "mcap/reader.hpp"
#include "shmsnap/printable.hpp"

namespace shmsnap::recording {

namespace {

// Every string below comes from the file (or the command line): JSON gets it as
// valid UTF-8 (nlohmann::json throws on anything else), a terminal gets it escaped.
std::string json_text(std::string_view text) {
  return valid_utf8(text);
}

std::string shown(const nlohmann::ordered_json& text) {
  return printable(text.get<std::string>());
}

}  // namespace

nlohmann::ordered_json describe(const std::string& path) {
  const mcap::MappedFile file(path);
  const mcap::ScanResult result = mcap::scan(file.bytes(), path, nullptr);
  const auto& counted = result.counted;
  const double duration =
      counted.message_count > 1 ? static_cast<double>(counted.message_end_time - counted.message_start_time) / 1e9 : 0;
  nlohmann::ordered_json out;
  out["file"] = json_text(path);
  out["bytes"] = result.file_size;
  out["complete"] = result.complete;
  out["truncation"] = result.truncation;
  out["library"] = json_text(result.header.library);
  out["profile"] = json_text(result.header.profile);
  out["messages"] = counted.message_count;
  out["chunks"] = counted.chunk_count;
  out["start_ns"] = counted.message_start_time;
  out["end_ns"] = counted.message_end_time;
  out["duration_s"] = duration;
  nlohmann::ordered_json compression = nlohmann::ordered_json::object();
  for (const auto& [name, chunks] : result.compressions)
    compression[name.empty() ? "none" : json_text(name)] = chunks;
  out["compression"] = compression;
  out["compressed_bytes"] = result.compressed_chunk_bytes;
  out["uncompressed_bytes"] = result.uncompressed_chunk_bytes;
  out["ratio"] = result.compressed_chunk_bytes > 0 ? static_cast<double>(result.uncompressed_chunk_bytes) /
                                                         static_cast<double>(result.compressed_chunk_bytes)
                                                   : 0.0;
  nlohmann::ordered_json channels = nlohmann::ordered_json::array();
  for (const auto& [id, channel] : result.channels) {
    nlohmann::ordered_json entry;
    entry["id"] = id;
    entry["topic"] = json_text(channel.topic);
    entry["message_encoding"] = json_text(channel.message_encoding);
    const auto schema = result.schemas.find(channel.schema_id);
    entry["schema"] = schema == result.schemas.end() ? "" : json_text(schema->second.name);
    entry["schema_encoding"] = schema == result.schemas.end() ? "" : json_text(schema->second.encoding);
    const auto count_it = counted.channel_message_counts.find(id);
    const std::uint64_t count = count_it == counted.channel_message_counts.end() ? 0 : count_it->second;
    entry["messages"] = count;
    entry["rate_hz"] = duration > 0 ? static_cast<double>(count) / duration : 0.0;
    channels.push_back(std::move(entry));
  }
  out["channels"] = channels;
  if (result.summary_statistics) {
    const auto& stats = *result.summary_statistics;
    nlohmann::ordered_json summary;
    summary["messages"] = stats.message_count;
    summary["schemas"] = stats.schema_count;
    summary["channels"] = stats.channel_count;
    summary["chunks"] = stats.chunk_count;
    summary["metadata"] = stats.metadata_count;
    nlohmann::ordered_json per_channel = nlohmann::ordered_json::object();
    for (const auto& [id, count] : stats.channel_message_counts)
      per_channel[std::to_string(id)] = count;
    summary["channel_messages"] = per_channel;
    out["statistics"] = summary;
  }
  nlohmann::ordered_json metadata = nlohmann::ordered_json::array();
  for (const auto& record : result.metadata) {
    nlohmann::ordered_json entry;
    entry["name"] = json_text(record.name);
    nlohmann::ordered_json pairs = nlohmann::ordered_json::object();
    for (const auto& [key, value] : record.metadata)
      pairs[json_text(key)] = json_text(value);
    entry["metadata"] = std::move(pairs);
    metadata.push_back(std::move(entry));
  }
  out["metadata"] = metadata;
  return out;
}

void print_info(const nlohmann::ordered_json& d, std::ostream& out) {
  out << "file:        " << shown(d["file"]) << " (" << d["bytes"] << " bytes)\n";
  out << "state:       "
      << (d["complete"].get<bool>()
              ? std::string("complete")
              : "incomplete: " + shown(d["truncation"]) + " (run 'shmsnap record --recover' to add a summary)")
      << "\n";
  out << "library:     " << shown(d["library"]) << "\n";
  out << std::fixed << std::setprecision(3);
  out << "duration:    " << d["duration_s"].get<double>() << " s\n";
  out << "messages:    " << d["messages"] << "\n";
  out << "chunks:      " << d["chunks"] << " " << printable(d["compression"].dump()) << "\n";
  out << std::setprecision(2);
  out << "compression: " << d["compressed_bytes"] << " of " << d["uncompressed_bytes"] << " bytes, ratio "
      << d["ratio"].get<double>() << "\n";
  out << "channels:\n";
  for (const auto& channel : d["channels"]) {
    out << "  " << std::setw(3) << channel["id"].get<int>() << "  " << shown(channel["topic"]) << "  "
        << shown(channel["schema"]) << " [" << shown(channel["schema_encoding"]) << " / "
        << shown(channel["message_encoding"]) << "]  " << channel["messages"] << " messages, "
        << channel["rate_hz"].get<double>() << " Hz\n";
  }
  for (const auto& record : d["metadata"]) {
    out << "metadata " << shown(record["name"]) << ":\n";
    for (const auto& [key, value] : record["metadata"].items())
      out << "  " << printable(key) << " = " << shown(value) << "\n";
  }
  out.flush();
}

}  // namespace shmsnap::recording
