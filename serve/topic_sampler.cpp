#include "topic_sampler.hpp"

#include <unistd.h>

#include <optional>

#include "shmsnap/admin.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/schema_json.hpp"
#include "shmsnap/subscriber.hpp"

#include "publish_rate.hpp"

namespace shmsnap::serve {
namespace {

// New topics show up within this many samples; reopening also follows a region
// that a successor publisher re-created under the same name.
constexpr std::uint64_t rescan_every = 5;
// A topic whose subscriber could not attach is tried again after this long.
constexpr std::int64_t attach_backoff_ns = 2'000'000'000;
// Descriptors (new publishers) parsed per sample; more wait for the next one. A
// descriptor may be 256 KiB of hostile JSON: the work of one sample stays bounded.
constexpr int max_descriptor_parses_per_sample = 4;

double seconds_between(std::int64_t earlier_ns, std::int64_t later_ns) {
  return static_cast<double>(later_ns - earlier_ns) / 1e9;
}

}  // namespace

struct TopicSampler::Follower {
  std::string topic;
  std::string region_name;             // "/<prefix>.<topic>"
  std::string location;                // where it is found: "/dev/shm/<prefix>.<topic>" or "DIR/<topic>.sock"
  std::optional<RegionReader> reader;  // named mode only
  std::string reader_problem;
  std::unique_ptr<UntypedSubscriber> subscriber;
  std::string subscriber_problem;
  std::int64_t next_attach_ns = 0;
  std::unique_ptr<SnapshotCodec> codec;
  std::shared_ptr<const nlohmann::ordered_json> field_notes;  // codec's, made once per parse
  // The descriptor `codec` was made from, or the one refused: the subscriber's copy
  // changes only when it attaches to another publisher, so a refusal holds until then.
  std::string codec_descriptor;
  bool descriptor_refused = false;
  nlohmann::ordered_json value;
  std::uint64_t value_seq = 0;
  std::uint64_t value_epoch = 0;
  std::int64_t value_publish_ts_ns = 0;
  PublishRate rate;
  // Socket mode: the topic as its region last described it, shown while the
  // subscriber is detached from a lost publisher (it has no region then).
  std::optional<TopicState> last_described;
};

TopicSampler::TopicSampler(std::string_view prefix, std::string socket_dir, std::chrono::milliseconds period,
                           Listener listener)
    : prefix_(resolve_prefix(prefix)),
      socket_dir_(std::move(socket_dir)),
      period_(period),
      listener_(std::move(listener)),
      latest_(std::make_shared<const ModelSnapshot>(ModelSnapshot{.prefix = prefix_})) {
  thread_ = std::thread([this] { run(); });
}

TopicSampler::~TopicSampler() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<const ModelSnapshot> TopicSampler::latest() const {
  const std::lock_guard lock(mutex_);
  return latest_;
}

std::optional<nlohmann::ordered_json> TopicSampler::history_json(const std::string& topic,
                                                                 std::chrono::seconds window) const {
  const std::int64_t now_ns = monotonic_ns();
  const std::int64_t realtime_offset_ns = realtime_ns() - now_ns;
  const std::lock_guard lock(history_mutex_);
  const auto found = histories_.find(topic);
  if (found == histories_.end()) {
    return std::nullopt;
  }
  nlohmann::ordered_json answer{{"topic", topic}};
  answer.update(found->second.to_json(window, now_ns, realtime_offset_ns));
  return answer;
}

void TopicSampler::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    std::shared_ptr<const ModelSnapshot> snapshot = sample();
    if (listener_) {
      listener_(snapshot);
    }
    lock.lock();
    latest_ = std::move(snapshot);
    wake_.wait_for(lock, period_, [this] { return stopping_; });
  }
  lock.unlock();
  followers_.clear();  // BYE from every subscriber on this thread, which used them
}

void TopicSampler::describe_region(const RegionReader& reader, Follower& follower, TopicState& topic) {
  const auto& header = reader.header();
  topic.valid = true;
  topic.schema_name = std::string(reader.schema_name());
  topic.schema_version = header.schema_version;
  topic.descriptor = std::string(reader.descriptor());
  topic.publisher_pid = reader.publisher_pid();
  topic.publisher_up = reader.publisher_alive() && !reader.closed();
  topic.epoch = reader.epoch();
  topic.seq = reader.latest_seq();
  topic.published_total = header.published_count.load(std::memory_order_relaxed);
  topic.coalesced_total = header.coalesced_count.load(std::memory_order_relaxed);
  const std::int64_t heartbeat_ns = header.heartbeat_ns.load(std::memory_order_relaxed);
  for (const SubscriberRow& row : reader.subscribers()) {
    topic.notified_total += row.notified;
    topic.subscribers.push_back({row.id, row.pid, row.alive, row.notified, row.coalesced});
  }
  SnapshotMeta meta;
  std::byte first_byte{};
  std::uint64_t ignored_retries = 0;
  const bool has_snapshot =
      reader.try_read(std::span<std::byte>(&first_byte, 1), meta, ignored_retries) == ReadStatus::ok;
  // Ages against a clock read after the stamps: a live publisher's stamps are never
  // later, so a stamp in the future is a corrupt or tampered header, not an age.
  const std::int64_t read_ns = monotonic_ns();
  if (heartbeat_ns > read_ns) {
    topic.heartbeat_in_future = true;
  } else if (heartbeat_ns > 0) {
    topic.heartbeat_age_seconds = seconds_between(heartbeat_ns, read_ns);
  }
  if (has_snapshot && meta.publish_ts_ns <= read_ns) {
    topic.snapshot_age_seconds = seconds_between(meta.publish_ts_ns, read_ns);
  }

  if (has_snapshot && topic.publisher_up) {
    follower.rate.observe(topic.epoch, meta.seq, meta.publish_ts_ns);
    topic.publish_rate_hz = follower.rate.hertz(read_ns);
    topic.publish_rate_window_seconds = follower.rate.window_seconds();
  } else {
    follower.rate.reset();  // no publisher: no rate, and a successor starts afresh
  }
}

void TopicSampler::describe_lost(Follower& follower, TopicState& topic) {
  follower.rate.reset();
  if (follower.last_described) {
    // What the lost publisher's region said last, as a dead one's region would in
    // named mode; nothing of it is live any more.
    topic = *follower.last_described;
    topic.publisher_up = false;
    topic.heartbeat_age_seconds.reset();
    topic.heartbeat_in_future = false;
    topic.snapshot_age_seconds.reset();
    topic.publish_rate_hz = 0;
    topic.publish_rate_window_seconds = 0;
    topic.subscribers.clear();
    topic.notified_total = 0;
  }
  topic.problem = "no live publisher on " + follower.location + "; waiting for one";
}

void TopicSampler::attach_if_due(Follower& follower, std::int64_t now_ns) {
  if (follower.subscriber || now_ns < follower.next_attach_ns) {
    return;
  }
  SubscriberOptions options{
      .prefix = prefix_, .id = "serve-" + std::to_string(::getpid()), .attach_timeout = std::chrono::milliseconds(500)};
  options.socket_dir = socket_dir_;
  try {
    follower.subscriber = std::make_unique<UntypedSubscriber>(follower.topic, nullptr, options);
    follower.subscriber_problem.clear();
  } catch (const Error& error) {
    follower.subscriber_problem = error.what();
    follower.next_attach_ns = now_ns + attach_backoff_ns;
  }
}

std::shared_ptr<const ModelSnapshot> TopicSampler::sample() {
  const bool rescan = sample_number_ % rescan_every == 0;
  ++sample_number_;
  if (rescan) {
    std::vector<std::string> names;
    try {
      names = socket_dir_.empty() ? admin::find_topics(prefix_) : admin::find_socket_topics(socket_dir_);
    } catch (const Error&) {
      names.clear();  // /dev/shm (the socket directory) unreadable: show nothing rather than stop serving
    }
    std::map<std::string, std::unique_ptr<Follower>> kept;
    for (const std::string& name : names) {
      auto found = followers_.find(name);
      std::unique_ptr<Follower> follower;
      if (found != followers_.end()) {
        follower = std::move(found->second);
      } else {
        follower = std::make_unique<Follower>();
        follower->topic = name;
        follower->region_name = TopicNames(prefix_, name).region();
        follower->location = socket_dir_.empty()
                                 ? "/dev/shm" + follower->region_name
                                 : socket_dir_ + (socket_dir_.back() == '/' ? "" : "/") + name + ".sock";
      }
      if (socket_dir_.empty()) {  // socket mode reads the region its subscriber received
        follower->reader.reset();
        try {
          follower->reader.emplace(RegionReader::open(follower->region_name));
          follower->reader_problem.clear();
        } catch (const Error& error) {
          follower->reader_problem = error.what();
        }
      }
      kept.emplace(name, std::move(follower));
    }
    // Topics whose region (socket) is gone drop their subscriber (and history) here;
    // a killed socket-mode publisher leaves its socket, so its topic stays, stale.
    followers_ = std::move(kept);
    const std::lock_guard lock(history_mutex_);
    std::erase_if(histories_, [this](const auto& entry) { return !followers_.contains(entry.first); });
  }

  auto snapshot = std::make_shared<ModelSnapshot>();
  snapshot->prefix = prefix_;
  snapshot->sample_number = sample_number_;
  snapshot->sampled_realtime_ns = realtime_ns();
  const std::int64_t now_ns = monotonic_ns();
  int parse_budget = max_descriptor_parses_per_sample;
  for (auto& [name, follower_pointer] : followers_) {
    Follower& follower = *follower_pointer;
    TopicState topic;
    topic.name = name;
    topic.region = follower.location;
    if (socket_dir_.empty()) {
      if (!follower.reader) {
        topic.problem = follower.reader_problem;
        topic.stale = true;
        snapshot->topics.push_back(std::move(topic));
        continue;
      }
      describe_region(*follower.reader, follower, topic);
      // Follow the topic as a subscriber while it has a live publisher; the
      // subscriber re-attaches to a successor by itself.
      if (topic.publisher_up) {
        attach_if_due(follower, now_ns);
      }
    } else {
      // Socket mode: no name to read; the region comes with the subscriber's attach
      // and goes when it detaches from a lost publisher (re-attaching by itself).
      attach_if_due(follower, now_ns);
      if (const RegionReader* region = follower.subscriber ? follower.subscriber->region() : nullptr) {
        describe_region(*region, follower, topic);
        follower.last_described = topic;
      } else {
        describe_lost(follower, topic);
      }
    }
    if (follower.subscriber) {
      UntypedSubscriber& subscriber = *follower.subscriber;
      (void)subscriber.poll();
      const UpdateInfo& info = subscriber.info();
      const bool fresh_value =
          subscriber.has_value() && (info.seq != follower.value_seq || info.epoch != follower.value_epoch);
      const bool same_descriptor = follower.codec_descriptor == subscriber.descriptor();
      const bool needs_parse = !follower.codec && !(follower.descriptor_refused && same_descriptor);
      const bool parse_changed = follower.codec && !same_descriptor;
      if (fresh_value && follower.descriptor_refused && same_descriptor) {
        follower.value_seq = info.seq;  // refused already: no value to decode, nothing to parse
        follower.value_epoch = info.epoch;
        follower.value_publish_ts_ns = info.publish_ts_ns;
      } else if (fresh_value && (needs_parse || parse_changed) && parse_budget == 0) {
        // Over this sample's parse budget: decoded at a later sample.
      } else if (fresh_value) {
        try {
          if (needs_parse || parse_changed) {
            --parse_budget;
            ++descriptor_parses_;
            follower.codec.reset();
            follower.field_notes.reset();
            follower.codec_descriptor = subscriber.descriptor();
            follower.descriptor_refused = false;
            try {
              follower.codec = std::make_unique<SnapshotCodec>(follower.codec_descriptor);
              follower.field_notes = std::make_shared<const nlohmann::ordered_json>(follower.codec->field_notes());
            } catch (const std::exception& error) {  // Error, or nlohmann's own for text it cannot read
              follower.descriptor_refused = true;
              throw Error(Errc::invalid_region, std::string("schema descriptor refused (not parsed again until "
                                                            "another publisher takes the topic over): ") +
                                                    error.what());
            }
          }
          follower.value = follower.codec->decode_ordered(subscriber.bytes());
          follower.subscriber_problem.clear();
          if (!subscriber.stale()) {
            const std::lock_guard lock(history_mutex_);
            histories_.try_emplace(name, period_).first->second.record(follower.value, now_ns);
          }
        } catch (const Error& error) {
          follower.value = nullptr;
          follower.subscriber_problem = error.what();
        }
        follower.value_seq = info.seq;
        follower.value_epoch = info.epoch;
        follower.value_publish_ts_ns = info.publish_ts_ns;
      }
      topic.read_retries = subscriber.stats().retries;
      topic.stale = subscriber.stale() || !topic.publisher_up;
    } else {
      topic.stale = !topic.publisher_up;
    }
    if (!follower.subscriber_problem.empty() || socket_dir_.empty()) {
      topic.problem = follower.subscriber_problem;  // socket mode: else describe_lost's, if any
    }
    topic.descriptor_refused = follower.descriptor_refused && follower.subscriber != nullptr;
    topic.value = follower.value;
    topic.field_notes = follower.field_notes;
    topic.value_seq = follower.value_seq;
    topic.value_publish_ts_ns = follower.value_publish_ts_ns;
    snapshot->topics.push_back(std::move(topic));
  }
  snapshot->descriptor_parses = descriptor_parses_;
  return snapshot;
}

}  // namespace shmsnap::serve
