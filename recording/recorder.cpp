// The recorder: one Poller over one UntypedSubscriber per topic; every delivery
// becomes one MCAP message. Topic discovery (--all, or named topics not there yet)
// runs between waits. A publisher restarted with another schema gets a new channel.
// A raw message carries the used part of the snapshot only (UpdateInfo::used_bytes,
// at least the schema's min_size), so a short bounded sequence records short.
#include "recorder.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <set>

#include "mcap/writer.hpp"
#include "profile.hpp"
#include "shmsnap/admin.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/json_schema.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/poller.hpp"
#include "shmsnap/schema_json.hpp"
#include "shmsnap/subscriber.hpp"

#ifndef SHMSNAP_VERSION
#define SHMSNAP_VERSION "unknown"
#endif

namespace shmsnap::recording {

namespace {

constexpr std::int64_t discovery_interval_ns = 200'000'000;
constexpr std::int64_t max_wait_ns = 50'000'000;

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0)
    return "unknown";
  return buffer;
}

struct Followed {
  std::string topic;
  std::unique_ptr<UntypedSubscriber> subscriber;
  std::uint64_t fingerprint = 0;
  std::uint16_t channel = 0;
  bool has_channel = false;
  std::optional<SnapshotCodec> codec;  ///< json encoding only
  std::size_t min_size = 0;            ///< the channel's schema: fewest bytes a replay accepts
  TopicCounts counts;
  std::set<std::uint64_t> epochs;
};

class Recorder {
 public:
  Recorder(const RecordOptions& options, std::ostream& log)
      : options_(options),
        log_(log),
        prefix_(resolve_prefix(options.prefix)),
        clock_offset_ns_(realtime_ns() - monotonic_ns()),
        chunk_interval_ns_(static_cast<std::int64_t>(options.chunk_interval * 1e9)),
        writer_(options.output, mcap::WriterOptions{.compression = options.compression,
                                                    .chunk_size = options.chunk_size,
                                                    .profile = "",
                                                    .library = std::string("shmsnap ") + SHMSNAP_VERSION}) {
    writer_.add_metadata(
        mcap::Metadata{std::string(metadata_start),
                       {{"host", host_name()},
                        {"prefix", prefix_},
                        {"shmsnap_version", SHMSNAP_VERSION},
                        {"encoding", options.encoding == Encoding::json ? "json" : "raw"},
                        {"started_realtime_ns", std::to_string(realtime_ns())},
                        {"clock",
                         "log_time (receive) and publish_time are nanoseconds since the Unix epoch: CLOCK_MONOTONIC + "
                         "monotonic_to_realtime_ns"},
                        {"monotonic_to_realtime_ns", std::to_string(clock_offset_ns_)}}});
  }

  RecordReport run(const std::atomic<bool>& stop) {
    const std::int64_t deadline =
        options_.duration > 0 ? monotonic_ns() + static_cast<std::int64_t>(options_.duration * 1e9) : 0;
    std::int64_t next_discovery = 0;
    while (!stop.load(std::memory_order_relaxed) && !failure_) {
      const std::int64_t now = monotonic_ns();
      if (deadline != 0 && now >= deadline)
        break;
      if (now >= next_discovery) {
        discover();
        next_discovery = now + discovery_interval_ns;
      }
      flush_if_due(now);
      // Wake for the first of: discovery, the open chunk's flush deadline (a slow
      // topic must not hold a chunk past it), the end of --duration; and at least
      // every 50 ms for the stop flag.
      std::int64_t wake = std::min(next_discovery, now + max_wait_ns);
      if (writer_.chunk_pending())
        wake = std::min(wake, chunk_started_ns_ + chunk_interval_ns_);
      if (deadline != 0)
        wake = std::min(wake, deadline);
      (void)poller_.wait(std::chrono::nanoseconds(std::max<std::int64_t>(wake - now, 0)));
    }
    return finish();
  }

 private:
  // Closes the open chunk once it is chunk_interval old, so a SIGKILL loses at most
  // that much; the chunk reaches the file as soon as the writer's worker compressed it.
  void flush_if_due(std::int64_t now) {
    if (failure_ || !writer_.chunk_pending() || now - chunk_started_ns_ < chunk_interval_ns_)
      return;
    try {
      writer_.flush_chunk();
    } catch (const Error& error) {
      failure_ = error;
    }
  }

  void discover() {
    std::vector<std::string> wanted = options_.topics;
    if (options_.all) {
      for (std::string& topic :
           options_.socket_dir.empty() ? admin::find_topics(prefix_) : admin::find_socket_topics(options_.socket_dir))
        wanted.push_back(std::move(topic));
    }
    for (const std::string& topic : wanted) {
      if (followed_.contains(topic))
        continue;
      try {
        attach(topic);
      } catch (const Error& error) {
        if (error.code() == Errc::invalid_argument)
          throw;
        // Not there yet (or a publisher mid-start): try again at the next discovery.
        if (warned_.insert(topic).second)
          log_ << "shmsnap record: waiting for topic '" << topic << "': " << error.what() << std::endl;
      }
    }
  }

  void attach(const std::string& topic) {
    auto followed = std::make_unique<Followed>();
    followed->topic = topic;
    SubscriberOptions subscriber_options{.prefix = prefix_, .id = "record-" + std::to_string(::getpid())};
    subscriber_options.socket_dir = options_.socket_dir;
    followed->subscriber = std::make_unique<UntypedSubscriber>(topic, nullptr, subscriber_options);
    Followed& ref = *followed;
    ref.subscriber->on_update([this, &ref](const UpdateInfo& info) { on_update(ref, info); });
    poller_.add(*ref.subscriber);
    log_ << "shmsnap record: following '" << topic << "' (" << ref.subscriber->schema().name << " v"
         << ref.subscriber->schema().version << ")" << std::endl;
    followed_.emplace(topic, std::move(followed));
    // The state at attach time is the first message: a replay starts from it.
    if (ref.subscriber->has_value())
      on_update(ref, ref.subscriber->info());
  }

  void ensure_channel(Followed& followed) {
    const SchemaInfo& schema = followed.subscriber->schema();
    if (followed.has_channel && followed.fingerprint == schema.fingerprint)
      return;
    const std::string descriptor(schema.descriptor);
    const bool json = options_.encoding == Encoding::json;
    const auto key = std::make_pair(schema.fingerprint, json);
    auto schema_it = schema_ids_.find(key);
    if (schema_it == schema_ids_.end()) {
      const std::uint16_t id =
          json ? writer_.add_schema(std::string(schema.name), std::string(json_schema_encoding),
                                    json_schema_from_descriptor(descriptor).dump())
               : writer_.add_schema(std::string(schema.name), std::string(descriptor_schema_encoding), descriptor);
      schema_it = schema_ids_.emplace(key, id).first;
    }
    followed.channel = writer_.add_channel(
        schema_it->second, followed.topic, std::string(json ? json_message_encoding : raw_message_encoding),
        {{std::string(key_descriptor), descriptor},
         {std::string(key_schema_name), std::string(schema.name)},
         {std::string(key_schema_version), std::to_string(schema.version)},
         {std::string(key_fingerprint), std::to_string(schema.fingerprint)},
         {std::string(key_size), std::to_string(schema.size)},
         {std::string(key_epoch), std::to_string(followed.subscriber->info().epoch)}});
    if (json) {
      followed.codec.emplace(descriptor);
      followed.min_size = followed.codec->min_size();
    } else {
      // A raw recording needs no codec: a descriptor it cannot read (or none) just
      // means whole snapshots are carried, as before variable sizes existed.
      try {
        followed.min_size = SnapshotCodec(descriptor).min_size();
      } catch (const std::exception&) {
        followed.min_size = schema.size;
      }
    }
    followed.fingerprint = schema.fingerprint;
    followed.has_channel = true;
  }

  // Runs inside Poller::wait (noexcept): errors are kept and end the loop.
  void on_update(Followed& followed, const UpdateInfo& info) noexcept {
    if (failure_)
      return;
    try {
      ensure_channel(followed);
      const auto bytes = followed.subscriber->bytes();
      // The used prefix: past it the local copy is zeros the publisher never wrote. A
      // publish shorter than the schema's min_size (possible through the untyped API)
      // is padded with those zeros to min_size, the least a replay accepts.
      const std::size_t carried = static_cast<std::size_t>(
          std::min<std::uint64_t>(std::max<std::uint64_t>(info.used_bytes, followed.min_size), bytes.size()));
      std::string json_text;
      std::string_view data(reinterpret_cast<const char*>(bytes.data()), carried);
      if (followed.codec) {
        json_text = followed.codec->decode(bytes).dump();
        data = json_text;
      }
      if (!writer_.chunk_pending())
        chunk_started_ns_ = monotonic_ns();
      writer_.add_message(mcap::Message{followed.channel, static_cast<std::uint32_t>(info.seq),
                                        static_cast<std::uint64_t>(info.receive_ts_ns + clock_offset_ns_),
                                        static_cast<std::uint64_t>(info.publish_ts_ns + clock_offset_ns_), data});
      ++followed.counts.recorded;
      followed.counts.skipped += info.skipped;
      followed.epochs.insert(info.epoch);
    } catch (const Error& error) {
      failure_ = error;
    } catch (const std::exception& error) {
      failure_ = Error(Errc::system, std::string("recording failed: ") + error.what());
    }
  }

  RecordReport finish() {
    RecordReport report;
    mcap::StringMap end;
    end["note"] =
        "skipped counts publishes a newer snapshot replaced before the recorder read them: latest-value "
        "conflation, not loss";
    end["stopped_realtime_ns"] = std::to_string(realtime_ns());
    for (auto& [topic, followed] : followed_) {
      poller_.remove(*followed->subscriber);
      std::string epochs;
      for (const auto epoch : followed->epochs)
        epochs += (epochs.empty() ? "" : ",") + std::to_string(epoch);
      end[topic + ".recorded"] = std::to_string(followed->counts.recorded);
      end[topic + ".skipped"] = std::to_string(followed->counts.skipped);
      end[topic + ".epochs"] = epochs;
      report.topics[topic] = followed->counts;
    }
    if (!failure_)
      writer_.add_metadata(mcap::Metadata{std::string(metadata_end), std::move(end)});
    writer_.finish();  // throws the write error, if any, saying how far the file got
    if (failure_)
      throw *failure_;
    report.messages = writer_.written_statistics().message_count;
    report.file_size = writer_.file_size();
    return report;
  }

  const RecordOptions& options_;
  std::ostream& log_;
  std::string prefix_;
  std::int64_t clock_offset_ns_;
  std::int64_t chunk_interval_ns_;
  std::int64_t chunk_started_ns_ = 0;  ///< when the open chunk got its first message
  mcap::Writer writer_;
  Poller poller_;
  std::map<std::string, std::unique_ptr<Followed>> followed_;
  std::map<std::pair<std::uint64_t, bool>, std::uint16_t> schema_ids_;
  std::set<std::string> warned_;
  std::optional<Error> failure_;
};

}  // namespace

RecordReport record(const RecordOptions& options, const std::atomic<bool>& stop, std::ostream& log) {
  if (options.output.empty())
    throw Error(Errc::invalid_argument, "no output file: give -o FILE.mcap");
  if (!options.all && options.topics.empty())
    throw Error(Errc::invalid_argument, "no topics to record: name them, or give --all for every topic");
  for (const std::string& topic : options.topics)
    validate_name("topic", topic, max_topic_length);
  // Both become nanosecond counts: bounded so the conversion cannot overflow.
  if (!(options.duration >= 0 && options.duration <= max_record_seconds))
    throw Error(Errc::invalid_argument, "--duration must be between 0 and " +
                                            std::to_string(static_cast<long long>(max_record_seconds)) + " seconds");
  if (!(options.chunk_interval >= 0.001 && options.chunk_interval <= max_record_seconds))
    throw Error(Errc::invalid_argument, "--chunk-interval must be between 0.001 and " +
                                            std::to_string(static_cast<long long>(max_record_seconds)) + " seconds");
  Recorder recorder(options, log);
  return recorder.run(stop);
}

}  // namespace shmsnap::recording
