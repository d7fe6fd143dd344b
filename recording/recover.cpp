// Recovery: a scan of IN feeding a fresh Writer, schemas and channels renumbered as
// they first carry a message, then IN's metadata.
#include "recover.hpp"

#include <map>
#include <optional>

#include "mcap/reader.hpp"
#include "mcap/writer.hpp"
#include "shmsnap/error.hpp"

namespace shmsnap::recording {

RecoverReport recover(const std::string& input, const std::string& output, mcap::Compression compression) {
  if (input == output)
    throw Error(Errc::invalid_argument, "--recover needs an output file other than its input");
  const mcap::MappedFile file(input);
  // A first pass without messages: malformed input fails before OUT is created.
  const mcap::ScanResult probe = mcap::scan(file.bytes(), input, nullptr);
  mcap::Writer writer(
      output, mcap::WriterOptions{
                  .compression = compression, .profile = probe.header.profile, .library = probe.header.library});
  std::map<std::uint16_t, std::uint16_t> schema_ids;
  std::map<std::uint16_t, std::uint16_t> channel_ids;
  const auto on_message = [&](const mcap::Schema* schema, const mcap::Channel& channel, const mcap::Message& message) {
    auto channel_it = channel_ids.find(channel.id);
    if (channel_it == channel_ids.end()) {
      std::uint16_t schema_id = 0;
      if (schema != nullptr) {
        auto schema_it = schema_ids.find(schema->id);
        if (schema_it == schema_ids.end())
          schema_it =
              schema_ids.emplace(schema->id, writer.add_schema(schema->name, schema->encoding, schema->data)).first;
        schema_id = schema_it->second;
      }
      channel_it = channel_ids
                       .emplace(channel.id, writer.add_channel(schema_id, channel.topic, channel.message_encoding,
                                                               channel.metadata))
                       .first;
    }
    mcap::Message copy = message;
    copy.channel_id = channel_it->second;
    writer.add_message(copy);
    return true;
  };
  const mcap::ScanResult result = mcap::scan(file.bytes(), input, on_message);
  for (const mcap::Metadata& metadata : result.metadata)
    writer.add_metadata(metadata);
  writer.finish();
  return RecoverReport{result.counted.message_count, result.complete, result.truncation};
}

}  // namespace shmsnap::recording
