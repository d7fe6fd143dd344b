// Replay: each selected channel's topic gets a UntypedPublisher built from the schema
// recorded in the channel metadata; raw messages are published byte for byte, json
// messages are encoded back through the descriptor. Timing follows log_time.
// A raw message is the used part of a snapshot (min_size..size bytes of its schema)
// and is republished with that used length; a json one with the used length its
// bounded sequence's count gives.
#include "replayer.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "mcap/reader.hpp"
#include "profile.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/printable.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/schema.hpp"
#include "shmsnap/schema_json.hpp"

namespace shmsnap::recording {

namespace {

// "channel '<topic>'" for messages: the topic comes from the file, so it is escaped
// (as is every other string from the file in a message) to keep terminal escapes out.
std::string channel_name(const mcap::Channel& channel) {
  return "channel '" + printable(channel.topic) + "'";
}

std::string metadata_value(const mcap::Channel& channel, std::string_view key) {
  const auto it = channel.metadata.find(std::string(key));
  if (it == channel.metadata.end()) {
    throw Error(Errc::invalid_argument, channel_name(channel) + " has no '" + std::string(key) +
                                            "' metadata: it was not recorded by 'shmsnap record', so it cannot be "
                                            "replayed as a shmsnap topic (use --topic to pick others)");
  }
  return it->second;
}

std::uint64_t metadata_number(const mcap::Channel& channel, std::string_view key) {
  const std::string text = metadata_value(channel, key);
  try {
    std::size_t used = 0;
    const std::uint64_t value = std::stoull(text, &used);
    if (used == text.size())
      return value;
  } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): reported below
  }
  throw Error(Errc::invalid_argument,
              channel_name(channel) + ": metadata '" + std::string(key) + "' is not a number: " + printable(text));
}

// The publisher of one topic and what it was built from.
struct Outlet {
  std::string descriptor;
  std::string schema_name;
  std::uint64_t fingerprint = 0;
  std::size_t size = 0;
  std::size_t min_size = 0;  ///< fewest bytes of a raw message: a bounded sequence's offset, else size
  bool json = false;
  std::optional<SnapshotCodec> codec;
  std::unique_ptr<UntypedPublisher> publisher;
};

class Replayer {
 public:
  Replayer(const ReplayOptions& options, const std::atomic<bool>& stop, std::ostream& log)
      : options_(options), stop_(stop), log_(log), file_(options.input) {
    if (!(options.speed > 0))
      throw Error(Errc::invalid_argument, "--speed must be greater than 0");
    if (options.end != 0 && options.end < options.start)
      throw Error(Errc::invalid_argument, "--end must not be before --start");
  }

  ReplayReport run() {
    ReplayReport report;
    do {
      ++report.passes;
      pass_started_ = false;
      const mcap::ScanResult result =
          mcap::scan(file_.bytes(), options_.input,
                     [&](const mcap::Schema*, const mcap::Channel& channel, const mcap::Message& message) {
                       return on_message(channel, message);
                     });
      if (!result.complete && !result.stopped && report.passes == 1)
        log_ << "shmsnap replay: " << options_.input << " is incomplete (" << result.truncation
             << "); replayed what it holds" << std::endl;
      if (published_ == 0 && report.passes == 1 && !stop_.load())
        throw Error(Errc::not_found, options_.input + ": no messages to replay" +
                                         (options_.topics.empty() ? "" : " on the selected topics") +
                                         " in the selected time range");
    } while (options_.loop && !stop_.load());
    report.published = published_;
    return report;
  }

 private:
  bool selected(const std::string& topic) const {
    return options_.topics.empty() ||
           std::find(options_.topics.begin(), options_.topics.end(), topic) != options_.topics.end();
  }

  Outlet& outlet_for(const mcap::Channel& channel) {
    const auto fingerprint = metadata_number(channel, key_fingerprint);
    auto& outlet = outlets_[channel.topic];
    if (outlet.publisher && outlet.fingerprint == fingerprint) {
      outlet.json = channel.message_encoding == json_message_encoding;
      return outlet;
    }
    if (channel.message_encoding != raw_message_encoding && channel.message_encoding != json_message_encoding) {
      throw Error(Errc::invalid_argument, channel_name(channel) + " has message encoding '" +
                                              printable(channel.message_encoding) + "'; shmsnap replays '" +
                                              std::string(raw_message_encoding) + "' and 'json'");
    }
    outlet.publisher.reset();  // a schema change mid-recording: the old topic goes first
    outlet.descriptor = metadata_value(channel, key_descriptor);
    outlet.schema_name = metadata_value(channel, key_schema_name);
    outlet.fingerprint = fingerprint;
    if (!is_valid_name(channel.topic, max_topic_length)) {
      // Checked here so the publisher's own message cannot print the raw name.
      throw Error(Errc::invalid_argument, channel_name(channel) + " is not a valid shmsnap topic name (1 to " +
                                              std::to_string(max_topic_length) +
                                              " characters from [A-Za-z0-9_.-]): use --topic to pick others");
    }
    try {
      outlet.codec.emplace(outlet.descriptor);  // validates the descriptor
    } catch (const Error& error) {
      // A descriptor from a file is the file's fault, whatever the codec blames.
      throw Error(Errc::invalid_argument,
                  channel_name(channel) + ": its '" + std::string(key_descriptor) +
                      "' metadata is not a usable descriptor (damaged file?): " + printable(error.what()));
    }
    outlet.size = outlet.codec->size();
    outlet.min_size = outlet.codec->min_size();
    if (metadata_number(channel, key_size) != outlet.size) {
      throw Error(Errc::invalid_argument,
                  channel_name(channel) + ": metadata size disagrees with its descriptor (damaged file)");
    }
    outlet.json = channel.message_encoding == json_message_encoding;
    const SchemaInfo schema{outlet.schema_name, outlet.codec->version(), fingerprint, outlet.size, outlet.descriptor};
    // Subscribers trust the fingerprint alone: it must be the descriptor's own.
    if (const std::string why = schema_fingerprint_mismatch(schema); !why.empty())
      throw Error(Errc::invalid_argument, channel_name(channel) + ": " + printable(why) + " (damaged or forged file)");
    outlet.publisher = std::make_unique<UntypedPublisher>(channel.topic, schema, outlet.size,
                                                          PublisherOptions{.prefix = options_.prefix});
    log_ << "shmsnap replay: publishing '" << channel.topic << "' (" << printable(outlet.schema_name) << ", epoch "
         << outlet.publisher->epoch() << ")" << std::endl;
    return outlet;
  }

  bool on_message(const mcap::Channel& channel, const mcap::Message& message) {
    if (stop_.load(std::memory_order_relaxed))
      return false;
    if (!first_time_)
      first_time_ = message.log_time;
    const double offset_s = static_cast<double>(message.log_time - std::min(message.log_time, *first_time_)) / 1e9;
    if (options_.end != 0 && offset_s > options_.end)
      return false;
    if (offset_s < options_.start || !selected(channel.topic))
      return true;
    Outlet& outlet = outlet_for(channel);
    if (!pass_started_) {
      pass_started_ = true;
      pass_file_time_ = message.log_time;
      pass_wall_ns_ = monotonic_ns();
    }
    if (!options_.max && !wait_until(message.log_time))
      return false;
    if (outlet.json) {
      nlohmann::json value;
      try {
        value = nlohmann::json::parse(message.data);
      } catch (const nlohmann::json::exception& e) {
        throw Error(Errc::invalid_argument, channel_name(channel) + ": a message is not JSON: " + printable(e.what()));
      }
      std::vector<std::byte> bytes;
      try {
        bytes = outlet.codec->encode(value);
      } catch (const Error& error) {  // its message may quote the message's strings
        throw Error(error.code(), channel_name(channel) + ": " + printable(error.what()));
      }
      outlet.publisher->publish(bytes.data(), outlet.codec->used_size(bytes));
    } else {
      // The used part of a snapshot: anything outside min_size..size is not one (a
      // longer message would be cut, a shorter one would lose fields the schema has).
      if (message.data.size() < outlet.min_size || message.data.size() > outlet.size) {
        const std::string range = outlet.min_size == outlet.size
                                      ? "exactly " + std::to_string(outlet.size)
                                      : std::to_string(outlet.min_size) + " to " + std::to_string(outlet.size);
        throw Error(Errc::invalid_argument,
                    channel_name(channel) + ": a message of " + std::to_string(message.data.size()) + " bytes, but " +
                        printable(outlet.schema_name) + " snapshots take " + range + " bytes (damaged file)");
      }
      outlet.publisher->publish(message.data.data(), message.data.size());
    }
    ++published_;
    return true;
  }

  // Sleeps until the message's moment; false when stopped meanwhile.
  bool wait_until(std::uint64_t log_time) {
    const double file_elapsed = static_cast<double>(log_time - std::min(log_time, pass_file_time_));
    const double delay_ns = file_elapsed / options_.speed;
    // log_time comes from the file: messages centuries apart (or a tiny --speed) must
    // saturate, not overflow the int64 conversion (which would publish at once).
    constexpr double max_delay_ns = 4e18;  // ~127 years, far below INT64_MAX - any monotonic time
    const std::int64_t target = delay_ns < max_delay_ns ? pass_wall_ns_ + static_cast<std::int64_t>(delay_ns)
                                                        : std::numeric_limits<std::int64_t>::max();
    for (;;) {
      if (stop_.load(std::memory_order_relaxed))
        return false;
      const std::int64_t left = target - monotonic_ns();
      if (left <= 0)
        return true;
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::int64_t>(left, 50'000'000)));
    }
  }

  const ReplayOptions& options_;
  const std::atomic<bool>& stop_;
  std::ostream& log_;
  mcap::MappedFile file_;
  std::map<std::string, Outlet> outlets_;
  std::optional<std::uint64_t> first_time_;
  bool pass_started_ = false;
  std::uint64_t pass_file_time_ = 0;
  std::int64_t pass_wall_ns_ = 0;
  std::uint64_t published_ = 0;
};

}  // namespace

ReplayReport replay(const ReplayOptions& options, const std::atomic<bool>& stop, std::ostream& log) {
  return Replayer(options, stop, log).run();
}

}  // namespace shmsnap::recording
