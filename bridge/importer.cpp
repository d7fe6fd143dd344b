// Importer: KeyWatch -> envelope checks -> UntypedPublisher. A configured key has its
// own thread and watch; `all` has one thread and one wildcard watch per host pattern
// that carries every key's values (and chunks) in the order they were put. A
// payload is the used part of a snapshot (the schema's min_size..size bytes) and is
// republished with that used length.
#include "importer.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "chunks.hpp"
#include "envelope.hpp"
#include "host_id.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"

namespace shmsnap::bridge {
namespace {

constexpr std::chrono::milliseconds watch_tick{100};  // how often a quiet key checks stop and liveness
constexpr std::int64_t refusal_log_interval_ns = 1'000'000'000;
constexpr std::int64_t staleness_factor = 3;              // heartbeats missed before the origin counts as lost
constexpr std::int64_t rewatch_floor_ns = 1'000'000'000;  // never re-create a watch more often than this
constexpr std::int64_t first_backoff_ns = 100'000'000;
constexpr std::int64_t last_backoff_ns = 2'000'000'000;
// Chunk values kept from a wildcard watch, beyond two snapshots' worth: headers.
constexpr std::size_t chunk_cache_slack = 1U << 20;

/// When a watch may be created next, and how long to wait after the next failure.
struct WatchRetry {
  std::int64_t next_ns = 0;
  std::int64_t backoff_ns = first_backoff_ns;

  void failed() {
    next_ns = monotonic_ns() + backoff_ns;
    backoff_ns = std::min(backoff_ns * 2, last_backoff_ns);
  }
};

/// A watch of `pattern` once one is due and the server takes it; else nullptr,
/// after a tick's sleep or a logged failure (`who` names the importer's part).
std::unique_ptr<KeyWatch> open_watch(NatsLink& link, const std::string& pattern, std::string_view who,
                                     WatchRetry& retry) {
  if (monotonic_ns() < retry.next_ns) {
    std::this_thread::sleep_for(watch_tick);
    return nullptr;
  }
  try {
    std::unique_ptr<KeyWatch> watch = link.watch(pattern);
    retry.backoff_ns = first_backoff_ns;
    return watch;
  } catch (const Error& error) {
    spdlog::warn("{}: {}; retrying", who, error.what());
    retry.failed();
    return nullptr;
  }
}

/// The time after which heartbeats count as stopped: 3 periods.
std::int64_t silence_limit_ns(std::uint32_t heartbeat_ms) {
  return staleness_factor * std::int64_t{heartbeat_ms} * 1'000'000;
}

}  // namespace

struct Importer::Route {
  ImportRoute config;
  std::thread thread;              // a configured key's own follower (keys `all` found share their pattern's)
  mutable std::mutex state_mutex;  // guards `shared` only
  ImportState shared;

  // Owned by the route's thread.
  std::unique_ptr<UntypedPublisher> publisher;
  std::optional<SchemaRecord> schema;
  std::vector<std::byte> held;      // payload of the held value: its used length is the snapshot's
  std::vector<std::byte> assembly;  // a chunked snapshot being fetched (at most the schema size)
  std::vector<std::byte> chunk;     // one chunk value as fetched
  ImportState state;
  std::int64_t last_arrival_ns = 0;
  std::uint32_t heartbeat_ms = 0;
  // The origin run of the held value: (host, publisher pid, epoch). Order is kept
  // within one run only, so no value (a forged epoch of 2^63 included) can lock out
  // the next run of the real origin.
  std::string origin_host;
  std::uint32_t origin_pid = 0;
  std::vector<std::byte> refused_schema_bytes;  // the schema record last refused, and why
  std::string refused_schema_why;
  std::int64_t last_refusal_log_ns = 0;
  std::int64_t last_run_log_ns = 0;
  std::int64_t next_create_ns = 0;  // after a failed creation of the local topic: not before this
  std::uint64_t unlogged_refusals = 0;
  bool origin_gone = false;  // the held value carried the origin-gone flag
  // Chunk values a wildcard watch carried, by chunk key (the exporter puts them
  // before their manifest, and the watch keeps stream order): assembly takes them
  // from here and fetches only what is missing. At most two snapshots' worth.
  std::map<std::string, std::vector<std::byte>, std::less<>> chunk_cache;
  std::size_t chunk_cache_bytes = 0;

  void cache_chunk(const std::string& chunk_name, std::span<const std::byte> value) {
    if (!schema) {
      return;  // no size to bound the cache by yet: the first snapshot is fetched
    }
    auto [entry, added] = chunk_cache.try_emplace(chunk_name);
    if (!added) {
      chunk_cache_bytes -= entry->second.size();
    }
    entry->second.assign(value.begin(), value.end());
    chunk_cache_bytes += value.size();
    if (chunk_cache_bytes > 2 * std::size_t{schema->size} + chunk_cache_slack) {
      chunk_cache.clear();  // more than the exporter keeps: something odd, start over
      chunk_cache_bytes = 0;
    }
  }
  void forget_chunk(const std::string& chunk_name) {
    const auto entry = chunk_cache.find(chunk_name);
    if (entry != chunk_cache.end()) {
      chunk_cache_bytes -= entry->second.size();
      chunk_cache.erase(entry);
    }
  }

  void publish_state() {
    state.local_live = publisher != nullptr;
    const std::lock_guard lock(state_mutex);
    shared = state;
  }
};

Importer::Importer(NatsLink& link, ImporterOptions options, BridgeCounters& counters)
    : link_(link), options_(std::move(options)), counters_(counters) {
  for (auto& config : options_.routes) {
    validate_key(config.key);
    if (config.topic.empty()) {
      config.topic = config.key;
    }
    validate_name("topic", config.topic, max_topic_length);
  }
  std::error_code unreadable;
  if (!options_.publisher.socket_dir.empty() &&
      !std::filesystem::is_directory(options_.publisher.socket_dir, unreadable)) {
    throw Error(Errc::invalid_argument,
                fmt::format("socket directory '{}' is not a directory: create it (the volume the subscribers' "
                            "containers share) or give another",
                            options_.publisher.socket_dir));
  }
  std::vector<std::string> patterns;
  if (options_.all) {
    if (options_.own_host_id.empty()) {
      options_.own_host_id = default_host_id();
    }
    validate_host_id(options_.own_host_id);
    for (const auto& host : options_.hosts) {
      validate_host_id(host);
      if (std::find(patterns.begin(), patterns.end(), host + ".>") == patterns.end()) {
        patterns.push_back(host + ".>");
      }
    }
    if (patterns.empty()) {
      patterns.emplace_back(">");  // every host; our own keys are skipped as they come
    }
    if (options_.max_keys == 0) {
      throw Error(Errc::invalid_argument, "import --all needs max keys > 0");
    }
  }
  // Threads only once every check passed: a throw leaves none behind.
  for (const auto& config : options_.routes) {
    start(config);
  }
  for (auto& pattern : patterns) {
    pattern_threads_.emplace_back([this, pattern = std::move(pattern)] { follow_pattern(pattern); });
  }
}

Importer::~Importer() {
  stop_.store(true);
  for (auto& thread : pattern_threads_) {
    thread.join();
  }
  for (auto& route : routes_) {
    if (route->thread.joinable()) {
      route->thread.join();
    }
  }
}

void Importer::start(ImportRoute config) {
  auto route = std::make_unique<Route>();
  route->config = std::move(config);
  Route* target = route.get();
  {
    const std::lock_guard lock(routes_mutex_);
    routes_.push_back(std::move(route));
  }
  target->thread = std::thread([this, target] { follow_key(*target); });
}

std::vector<ImportRoute> Importer::routes() const {
  const std::lock_guard lock(routes_mutex_);
  std::vector<ImportRoute> result;
  result.reserve(routes_.size());
  for (const auto& route : routes_) {
    result.push_back(route->config);
  }
  return result;
}

ImportState Importer::state(const std::string& key) const {
  const std::lock_guard routes_lock(routes_mutex_);
  for (const auto& route : routes_) {
    if (route->config.key == key) {
      const std::lock_guard lock(route->state_mutex);
      return route->shared;
    }
  }
  return {};
}

void Importer::refuse(Route& route, std::atomic<std::uint64_t>& counter, const std::string& why) {
  counter.fetch_add(1, std::memory_order_relaxed);
  const std::int64_t now = monotonic_ns();
  if (now - route.last_refusal_log_ns < refusal_log_interval_ns) {
    ++route.unlogged_refusals;  // rate-limited: a flood of garbage must not flood the log
    return;
  }
  spdlog::warn("import '{}': refused a value ({}); the local topic is untouched{}", route.config.key, why,
               route.unlogged_refusals > 0
                   ? fmt::format(" ({} more refused since the last report)", route.unlogged_refusals)
                   : "");
  route.last_refusal_log_ns = now;
  route.unlogged_refusals = 0;
}

void Importer::go_stale(Route& route, const char* why) {
  if (route.state.stale) {
    return;
  }
  route.state.stale = true;
  counters_.stale_events.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("import '{}': origin {}; local topic '{}' keeps the last state (epoch {}, seq {}) as stale",
               route.config.key, why, route.config.topic, route.state.epoch, route.state.seq);
  if (route.publisher) {
    // The local topic stays, with the last state marked stale: its subscribers,
    // and any that attach later, see stale until the origin returns.
    route.publisher->mark_source_lost();
  }
  route.publish_state();
}

// The local topic for the held schema, created when missing. False (counted and
// logged) when it cannot be created.
bool Importer::ensure_publisher(Route& route, std::string_view origin_host) {
  if (route.publisher) {
    return true;
  }
  // A creation that failed (a full /dev/shm, the host's queue limit) is tried
  // again once a second, not for every value: failing costs system calls and a log.
  const std::int64_t now = monotonic_ns();
  if (now < route.next_create_ns) {
    refuse(route, counters_.refused_malformed,
           fmt::format("local topic '{}' could not be created; trying again shortly", route.config.topic));
    return false;
  }
  const SchemaRecord& schema = *route.schema;
  // The region says where its values come from, so no exporter sends them back.
  PublisherOptions publisher_options = options_.publisher;
  publisher_options.origin_id = origin_id_for(origin_host);
  try {
    route.publisher = std::make_unique<UntypedPublisher>(route.config.topic,
                                                         SchemaInfo{.name = schema.name,
                                                                    .version = schema.version,
                                                                    .fingerprint = schema.fingerprint,
                                                                    .size = schema.size,
                                                                    .descriptor = schema.descriptor},
                                                         schema.size, publisher_options);
  } catch (const Error& error) {
    route.next_create_ns = now + refusal_log_interval_ns;
    refuse(route, counters_.refused_malformed,
           fmt::format("cannot create local topic '{}': {}", route.config.topic, error.what()));
    return false;
  }
  spdlog::info("import '{}' -> local topic '{}' (schema {} v{}, {} bytes, origin {} pid {}, epoch {})",
               route.config.key, route.config.topic, schema.name, schema.version, schema.size, origin_host,
               route.origin_pid, route.state.epoch);
  return true;
}

// The schema record for `fingerprint`: the held one, or fetched (the exporter
// writes it before the first value of a new schema). On failure nullopt, `why`,
// and the counter the refusal belongs to. A record refused once is not parsed
// again while its bytes stay the same: a hostile descriptor costs one parse.
std::optional<SchemaRecord> Importer::schema_for(Route& route, std::uint64_t fingerprint, std::string& why,
                                                 std::atomic<std::uint64_t>*& counter) {
  if (route.schema && route.schema->fingerprint == fingerprint) {
    return route.schema;
  }
  const std::string& key = route.config.key;
  counter = &counters_.refused_fingerprint;
  std::vector<std::byte> bytes;
  std::string error;
  switch (link_.get(schema_key(key), bytes, error)) {
    case GetStatus::not_found:
      why = fmt::format("no schema record under '{}'", schema_key(key));
      return std::nullopt;
    case GetStatus::failed:
      counter = &counters_.refused_schema;
      why = fmt::format("cannot read '{}': {}", schema_key(key), error);
      return std::nullopt;
    case GetStatus::ok:
      break;
  }
  if (!route.refused_schema_bytes.empty() && bytes == route.refused_schema_bytes) {
    counter = &counters_.refused_schema;
    why = route.refused_schema_why;
    return std::nullopt;
  }
  auto record = decode_schema_record(bytes, why);
  if (!record) {
    counter = &counters_.refused_schema;
    why = fmt::format("schema record '{}' refused: {}", schema_key(key), why);
    route.refused_schema_bytes = std::move(bytes);
    route.refused_schema_why = why;
    return std::nullopt;
  }
  if (record->fingerprint != fingerprint) {
    why = fmt::format("fingerprint {:016x} differs from the schema record's {:016x} ({} v{})", fingerprint,
                      record->fingerprint, record->name, record->version);
    return std::nullopt;
  }
  return record;
}

// Gathers every chunk `manifest` names into route.assembly: from the chunks the
// watch carried, else fetched. All must belong to its snapshot: one of another
// (the exporter wrote two newer snapshots meanwhile) abandons it, so a local topic
// never gets a mix of two snapshots.
bool Importer::assemble(Route& route, const ChunkManifest& manifest, std::string& why) {
  route.assembly.resize(manifest.total_size);  // min_size..size of the schema, checked by handle()
  std::string error;
  for (std::uint32_t index = 0; index < manifest.chunk_count && !stop_.load(); ++index) {
    const std::string chunk_name = chunk_key(route.config.key, manifest.slot, index);
    std::optional<std::span<const std::byte>> bytes;
    if (const auto cached = route.chunk_cache.find(chunk_name); cached != route.chunk_cache.end()) {
      std::string stale_chunk;  // an older snapshot's chunk in the cache: fetch the current one
      bytes = decode_chunk(cached->second, manifest, index, stale_chunk);
      if (bytes) {
        counters_.chunks_from_watch.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (!bytes) {
      if (link_.get(chunk_name, route.chunk, error) != GetStatus::ok) {
        why = fmt::format("cannot read '{}'{}", chunk_name, error.empty() ? "" : ": " + error);
        return false;
      }
      bytes = decode_chunk(route.chunk, manifest, index, why);
      if (!bytes) {
        return false;
      }
    }
    const ChunkExtent extent = chunk_extent(manifest, index);
    std::memcpy(route.assembly.data() + extent.offset, bytes->data(), bytes->size());
  }
  return !stop_.load();
}

// `live`: the value came after the watch's replay of the current one.
void Importer::handle(Route& route, std::span<const std::byte> value, bool live) {
  const std::string& key = route.config.key;
  std::string why;
  const std::optional<Envelope> envelope = decode_envelope(value, why);
  if (!envelope) {
    refuse(route, counters_.refused_malformed, "malformed envelope: " + why);
    return;
  }
  std::atomic<std::uint64_t>* schema_counter = nullptr;
  std::optional<SchemaRecord> record = schema_for(route, envelope->fingerprint, why, schema_counter);
  if (!record) {
    refuse(route, *schema_counter, why);
    return;
  }
  std::optional<ChunkManifest> manifest;
  if ((envelope->flags & flag_chunked) != 0) {
    manifest = decode_manifest(envelope->payload, why);
    if (!manifest) {
      refuse(route, counters_.refused_malformed, "malformed chunked value: " + why);
      return;
    }
  }
  // The used part of a snapshot: min_size (a bounded sequence's offset; for other
  // schemas the whole size) up to the size. Both bounds come from the checked
  // schema record; payload_size from the wire is only compared, never added to.
  const std::uint64_t payload_size = manifest ? manifest->total_size : envelope->payload.size();
  if (payload_size < record->min_size || payload_size > record->size) {
    refuse(route, counters_.refused_size,
           record->min_size == record->size
               ? fmt::format("payload of {} bytes, but {} v{} is {} bytes", payload_size, record->name, record->version,
                             record->size)
               : fmt::format("payload of {} bytes, but {} v{} takes {} to {} bytes (its used part)", payload_size,
                             record->name, record->version, record->min_size, record->size));
    return;
  }
  const std::int64_t now = monotonic_ns();
  ImportState& state = route.state;
  // A value put longer than 3 heartbeats ago (a late importer, or a re-created
  // watch replaying the current value while the exporter is silent) proves
  // nothing about the origin being alive now. Only a replayed value can be that
  // old, and only its age needs the two hosts' wall clocks to agree (NTP): a
  // live value was put just now, so a wall clock stepped on either host never
  // makes a live origin look silent.
  const std::int64_t age_ns = realtime_ns() - envelope->sent_time_ns;
  const bool silent = !live && envelope->heartbeat_ms > 0 && age_ns > silence_limit_ns(envelope->heartbeat_ms);
  const bool same_run = state.has_value && envelope->epoch == state.epoch && envelope->origin_pid == route.origin_pid &&
                        envelope->origin_host == route.origin_host;
  if (same_run) {
    const bool older = envelope->seq < state.seq;
    const bool equal = envelope->seq == state.seq;
    // Within a run the origin's sequence only grows, so an older value is a replay
    // or a forgery. Once the held state went stale by this importer's own clock,
    // whatever the run sends now wins: a forged large seq cannot hold it forever.
    // After the exporter said the origin is gone, order starts over too.
    if ((older && !route.origin_gone && !state.stale) ||
        (equal && state.stale && (envelope->origin_gone() || silent))) {
      if (!equal) {
        counters_.ignored_older.fetch_add(1, std::memory_order_relaxed);
      }
      return;
    }
    if (equal && !state.stale) {
      if (!silent) {
        route.last_arrival_ns = now;  // a heartbeat: the origin is alive
        route.heartbeat_ms = envelope->heartbeat_ms;
      }
      if (envelope->origin_gone()) {
        route.origin_gone = true;
        go_stale(route, (envelope->flags & flag_exporter_stopped) != 0 ? "exporter stopped" : "publisher lost");
      }
      return;
    }
  } else if (state.has_value) {
    // Another origin run (a restarted publisher, or another writer of the key): the
    // newest put wins, as in the bucket itself, whatever its epoch.
    counters_.origin_runs.fetch_add(1, std::memory_order_relaxed);
    if (now - route.last_run_log_ns >= refusal_log_interval_ns) {
      route.last_run_log_ns = now;
      spdlog::info("import '{}': origin run {} pid {} epoch {} follows {} pid {} epoch {}", key, envelope->origin_host,
                   envelope->origin_pid, envelope->epoch, route.origin_host, route.origin_pid, state.epoch);
    }
  }
  std::span<const std::byte> payload = envelope->payload;
  if (manifest && !assemble(route, *manifest, why)) {
    // Nothing changed: the held state stays whole, and the next manifest (or
    // heartbeat) of a newer snapshot is assembled instead.
    counters_.chunks_abandoned.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("import '{}': chunked snapshot {} abandoned: {}", key, manifest->snapshot_id, why);
    return;
  }
  if (manifest) {
    payload = route.assembly;
  }
  route.origin_host.assign(envelope->origin_host);
  route.origin_pid = envelope->origin_pid;
  route.origin_gone = envelope->origin_gone();
  route.held.assign(payload.begin(), payload.end());
  route.last_arrival_ns = now;
  route.heartbeat_ms = envelope->heartbeat_ms;
  const bool first = !state.has_value;
  state.has_value = true;
  state.epoch = envelope->epoch;
  state.seq = envelope->seq;
  const bool schema_changed = !route.schema || route.schema->fingerprint != record->fingerprint ||
                              route.schema->descriptor != record->descriptor;
  // A new schema, or the origin back after a loss: a new local publisher, so local
  // subscribers see a new epoch (as after a local publisher's restart).
  const bool resumed = state.stale && !(envelope->origin_gone() || silent);
  if ((schema_changed || resumed) && route.publisher) {
    route.publisher->shutdown();
    route.publisher.reset();
  }
  route.schema = std::move(record);
  if (!ensure_publisher(route, envelope->origin_host)) {
    state.has_value = !first;
    route.publish_state();
    return;
  }
  if (envelope->origin_gone() || silent) {
    if (first) {
      state.stale = false;  // so go_stale reports it
    }
    // Even a late importer serves the last value, marked stale.
    route.publisher->publish(route.held.data(), route.held.size());
    if (state.stale) {
      route.publisher->mark_source_lost();  // the publish above cleared the mark
    } else {
      go_stale(route, envelope->origin_gone() ? "is gone" : "stopped refreshing");
    }
    route.publish_state();
    return;
  }
  route.publisher->publish(route.held.data(), route.held.size());
  state.stale = false;
  counters_.imported.fetch_add(1, std::memory_order_relaxed);
  route.publish_state();
}

// Marks the route stale once its origin's heartbeats stopped arriving (this
// importer's own clock).
void Importer::check_silence(Route& route, std::int64_t now_ns) {
  if (route.state.has_value && !route.state.stale && route.heartbeat_ms > 0 &&
      now_ns - route.last_arrival_ns > silence_limit_ns(route.heartbeat_ms)) {
    go_stale(route, "silent (no value or heartbeat for 3 heartbeat periods)");
  }
}

void Importer::follow_key(Route& route) {
  const std::string& key = route.config.key;
  const std::string who = fmt::format("import '{}'", key);
  std::unique_ptr<KeyWatch> watch;
  WatchRetry retry;
  std::int64_t last_entry_ns = 0;
  std::vector<std::byte> value;
  while (!stop_.load()) {
    if (!watch) {
      watch = open_watch(link_, key, who, retry);
      if (!watch) {
        continue;
      }
      last_entry_ns = monotonic_ns();
    }
    const KeyWatch::Status status = watch->next(value, watch_tick);
    if (status == KeyWatch::Status::value || status == KeyWatch::Status::deleted) {
      last_entry_ns = monotonic_ns();
    }
    switch (status) {
      case KeyWatch::Status::value:
        handle(route, value, watch->live());
        break;
      case KeyWatch::Status::deleted:
        if (route.state.has_value) {
          go_stale(route, "key deleted");
        }
        break;
      case KeyWatch::Status::timed_out:
        break;
      case KeyWatch::Status::failed:
        spdlog::warn("import '{}': watch failed ({}); watching again", key, watch->error());
        watch.reset();
        retry.failed();
        break;
    }
    counters_.reconnects.store(link_.reconnects(), std::memory_order_relaxed);
    // A replay whose consumer lived on a server that died may stay silent without
    // an error: when an exporter's heartbeats stop arriving, watch again (the
    // current value comes first, so a live origin revives the topic at once).
    // Live values need no such help: core NATS resubscribes after a reconnect.
    if (watch && !watch->live() && route.heartbeat_ms > 0 &&
        monotonic_ns() - last_entry_ns > std::max(rewatch_floor_ns, silence_limit_ns(route.heartbeat_ms))) {
      watch.reset();
      retry.next_ns = 0;
    }
    check_silence(route, monotonic_ns());
  }
  if (route.publisher) {
    route.publisher->shutdown();
    route.publisher.reset();
  }
}

// A route for `key`, newly found by a pattern: nullptr when the key is refused (not
// a valid topic name, logged once) or the limit is reached (logged once).
Importer::Route* Importer::adopt(const std::string& key, std::set<std::string>& ignored, bool& announced_limit) {
  if (ignored.contains(key)) {
    return nullptr;
  }
  if (discovered_.load() >= options_.max_keys) {
    if (!announced_limit) {
      announced_limit = true;
      spdlog::warn(
          "import --all: importing {} keys already, the limit; '{}' and later ones are not imported "
          "(raise --max-keys)",
          discovered_.load(), key);
    }
    return nullptr;
  }
  try {
    validate_key(key);
    validate_name("topic", key, max_topic_length);  // the local topic is named as the key
  } catch (const Error& error) {
    if (ignored.size() < options_.max_keys) {
      ignored.insert(key);
    }
    spdlog::warn("import --all: key '{}' not imported: {}", key, error.what());
    return nullptr;
  }
  spdlog::info("import --all: new key '{}'", key);
  counters_.keys_added.fetch_add(1, std::memory_order_relaxed);
  discovered_.fetch_add(1);
  auto route = std::make_unique<Route>();
  route->config = {.key = key, .topic = key};
  Route* adopted = route.get();
  const std::lock_guard lock(routes_mutex_);
  routes_.push_back(std::move(route));
  return adopted;
}

// The key was deleted (its origin topic went): shuts its local topic down, so
// subscribers see it go.
void Importer::drop(const std::string& key, std::unique_ptr<Route> route) {
  if (route->publisher) {
    route->publisher->shutdown();
    route->publisher.reset();
  }
  discovered_.fetch_sub(1);
  counters_.keys_dropped.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("import --all: key '{}' deleted; local topic '{}' dropped", key, route->config.topic);
}

void Importer::follow_pattern(const std::string& pattern) {
  const std::string own_start = options_.own_host_id + ".";
  std::unordered_map<std::string, Route*> followed;  // this pattern's routes (in routes_), by key
  std::set<std::string> ignored;                     // keys refused once: logged once
  bool announced_limit = false;
  std::unique_ptr<KeyWatch> watch;
  WatchRetry retry;
  std::int64_t last_entry_ns = 0;
  std::int64_t next_check_ns = 0;
  std::vector<std::byte> value;
  while (!stop_.load()) {
    if (!watch) {
      watch = open_watch(link_, pattern, "import --all", retry);
      if (!watch) {
        continue;
      }
      last_entry_ns = monotonic_ns();
    }
    const KeyWatch::Status status = watch->next(value, watch_tick);
    if (status == KeyWatch::Status::failed) {
      spdlog::warn("import --all: watch of '{}' failed ({}); watching again", pattern, watch->error());
      watch.reset();
      retry.failed();
    } else if (status != KeyWatch::Status::timed_out) {
      last_entry_ns = monotonic_ns();
      const std::string& key = watch->key();
      const std::size_t slash = key.find('/');
      const std::string base = key.substr(0, slash);
      const auto found = followed.find(base);
      const bool ours = key.starts_with(own_start);  // our own exporter's keys would loop
      const bool configured = std::any_of(options_.routes.begin(), options_.routes.end(),
                                          [&](const ImportRoute& route) { return route.key == base; });
      if (ours || configured) {
        // Another thread (or nobody) imports these.
      } else if (slash != std::string::npos) {
        // "K/schema" is fetched when a fingerprint needs it; "K/c<slot>.<index>" is
        // a chunk, kept for the manifest that follows it.
        if (found != followed.end() && key.compare(slash, 2, "/c") == 0) {
          if (status == KeyWatch::Status::value) {
            found->second->cache_chunk(key, value);
          } else {
            found->second->forget_chunk(key);
          }
        }
      } else if (status == KeyWatch::Status::deleted) {
        if (found != followed.end()) {
          std::unique_ptr<Route> route;
          {
            const std::lock_guard lock(routes_mutex_);
            const auto owned = std::find_if(routes_.begin(), routes_.end(),
                                            [&](const auto& candidate) { return candidate.get() == found->second; });
            route = std::move(*owned);
            routes_.erase(owned);
          }
          followed.erase(found);
          drop(key, std::move(route));
        }
      } else {
        Route* route = found != followed.end() ? found->second : adopt(key, ignored, announced_limit);
        if (route != nullptr) {
          followed.emplace(key, route);
          handle(*route, value, watch->live());
        }
      }
    }
    counters_.reconnects.store(link_.reconnects(), std::memory_order_relaxed);
    const std::int64_t now = monotonic_ns();
    if (now < next_check_ns) {
      continue;
    }
    // Every tick: stale routes whose heartbeats stopped, and a replay that went
    // quiet for longer than the shortest heartbeat allows (its consumer may have
    // lived on a server that died without an error): watched again, the current
    // values come first. Live values need no such help: core NATS resubscribes
    // after a reconnect.
    next_check_ns = now + std::chrono::nanoseconds(watch_tick).count();
    std::uint32_t shortest_heartbeat_ms = 0;
    for (auto& [key, route] : followed) {
      check_silence(*route, now);
      if (route->heartbeat_ms > 0 && (shortest_heartbeat_ms == 0 || route->heartbeat_ms < shortest_heartbeat_ms)) {
        shortest_heartbeat_ms = route->heartbeat_ms;
      }
    }
    if (watch && !watch->live() && shortest_heartbeat_ms > 0 &&
        now - last_entry_ns > std::max(rewatch_floor_ns, silence_limit_ns(shortest_heartbeat_ms))) {
      watch.reset();
      retry.next_ns = 0;
    }
  }
  for (auto& [key, route] : followed) {
    if (route->publisher) {
      route->publisher->shutdown();
      route->publisher.reset();
    }
  }
}

}  // namespace shmsnap::bridge
