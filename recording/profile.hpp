// How shmsnap maps topics onto MCAP (documented in recording/README.md): the
// encodings and the channel metadata keys that `shmsnap record` writes and
// `shmsnap replay` reads back. Constants only.
#pragma once

#include <string_view>

namespace shmsnap::recording {

/// Message encoding of raw channels: each message is the snapshot's bytes, exactly as
/// published (native layout, described by the schema).
inline constexpr std::string_view raw_message_encoding = "shmsnap.raw";
/// Schema encoding of raw channels: the schema data is the shmsnap descriptor JSON.
inline constexpr std::string_view descriptor_schema_encoding = "shmsnap.descriptor";
/// Message encoding of json channels (SnapshotCodec's mapping), with a JSON Schema.
inline constexpr std::string_view json_message_encoding = "json";
inline constexpr std::string_view json_schema_encoding = "jsonschema";

// Channel metadata: enough to recreate the topic's publisher whatever the encoding.
inline constexpr std::string_view key_descriptor = "shmsnap.descriptor";
inline constexpr std::string_view key_schema_name = "shmsnap.schema_name";
inline constexpr std::string_view key_schema_version = "shmsnap.schema_version";
inline constexpr std::string_view key_fingerprint = "shmsnap.fingerprint";
inline constexpr std::string_view key_size = "shmsnap.size";
inline constexpr std::string_view key_epoch = "shmsnap.epoch";

/// Metadata record written when recording starts (host, prefix, version, clocks).
inline constexpr std::string_view metadata_start = "shmsnap.recording";
/// Metadata record written when recording ends (per-topic delivered/skipped/epochs).
inline constexpr std::string_view metadata_end = "shmsnap.recording.end";

}  // namespace shmsnap::recording
