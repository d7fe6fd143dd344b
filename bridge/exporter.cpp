// Exporter: UntypedSubscriber per topic in one Poller; puts under NatsLink. A value
// carries the used part of the snapshot (UpdateInfo::used_bytes, at least the
// schema's min_size), so a short bounded sequence crosses short, in one value when
// it fits the server's max_payload even if the full capacity would need chunks.
#include "exporter.hpp"

#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "chunks.hpp"
#include "envelope.hpp"
#include "host_id.hpp"
#include "shmsnap/admin.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/poller.hpp"
#include "shmsnap/schema_json.hpp"
#include "shmsnap/subscriber.hpp"

namespace shmsnap::bridge {
namespace {

constexpr std::int64_t attach_retry_ns = 200'000'000;
constexpr std::int64_t put_retry_ns = 100'000'000;  // after a failed put: no busy loop while NATS is away
// An ack this late means the bucket's stream cannot store now (its leader died and
// the survivors are electing one, which takes seconds): the newest value goes out
// anyway, since importers take live values from core NATS, which still delivers.
// One goes every 100 ms while acks stay overdue, for longer than the ack timeout
// (request_timeout, 2 s by default) with 32 in flight; the window bounds them all.
constexpr std::int64_t overdue_ack_ns = 100'000'000;
constexpr std::size_t max_puts_per_key = 32;  // in flight at once, overdue ones included

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) {
    return "unknown";
  }
  return name;
}

}  // namespace

struct Exporter::Route {
  ExportRoute config;
  std::unique_ptr<UntypedSubscriber> core;
  bool discovered = false;  // found by `all`: dropped when its region goes
  bool disabled = false;
  bool announced_wait = false;
  std::int64_t next_attach_ns = 0;
  bool dirty = false;  // a refresh not put yet
  // The flags of each put awaiting its ack, oldest first (acks come in order; a
  // heartbeat is counted apart). While one waits, `dirty` means a successor waits.
  std::deque<std::uint16_t> in_flight_flags;
  bool stale = false;
  bool has_value = false;
  std::int64_t next_allowed_ns = 0;
  std::int64_t last_put_ns = 0;
  std::uint64_t schema_fingerprint_put = 0;
  std::string schema_descriptor_put;
  std::vector<std::byte> buffer;
  // Chunked transport (a snapshot above max_payload): chunk_size 0 = always one value;
  // else a value whose envelope would exceed max_value goes as chunks.
  std::uint32_t chunk_size = 0;
  std::uint64_t max_value = 0;
  std::uint64_t snapshot_id = 0;  // of the chunks last written
  std::uint32_t slot = 1;         // of the chunks last written; the next go to the other
  bool chunks_written = false;
  std::uint32_t chunk_count = 0;    // of the chunks last written (both slots have at most this many)
  std::uint64_t chunked_epoch = 0;  // the origin (epoch, seq) those chunks hold
  std::uint64_t chunked_seq = 0;
  std::vector<std::byte> manifest;
  std::uint64_t min_size_fingerprint = 0;  // the schema min_size was computed for
  std::size_t min_size = 0;

  // What a put carries: the used prefix of the local copy (past it the copy is zeros
  // the publisher never wrote), never less than the schema's min_size, the least an
  // importer accepts (an untyped publish may be shorter: its zeros pad it), nor more
  // than the copy holds.
  std::span<const std::byte> carried() {
    const SchemaInfo& schema = core->schema();
    const std::span<const std::byte> bytes = core->bytes();
    if (min_size_fingerprint != schema.fingerprint || min_size == 0) {
      try {
        min_size = SnapshotCodec(schema.descriptor).min_size();
      } catch (const Error&) {
        min_size = bytes.size();  // the subscriber took the descriptor; carry it whole if the codec does not
      }
      min_size_fingerprint = schema.fingerprint;
    }
    const std::uint64_t used = std::max<std::uint64_t>(core->info().used_bytes, min_size);
    return bytes.first(static_cast<std::size_t>(std::min<std::uint64_t>(used, bytes.size())));
  }
};

struct Exporter::Loop {
  Poller poller;
};

Exporter::Exporter(NatsLink& link, ExporterOptions options, BridgeCounters& counters)
    : link_(link),
      options_(std::move(options)),
      counters_(counters),
      host_(host_name()),
      loop_(std::make_unique<Loop>()) {
  loop_->poller.wake_on(link_.put_results_fd());  // an ack lets a waiting successor go
  if (options_.window == 0 || options_.window > max_async_puts) {
    throw Error(Errc::invalid_argument, fmt::format("a window of {} puts in flight: choose 1..{} (default 256)",
                                                    options_.window, max_async_puts));
  }
  if (options_.heartbeat < std::chrono::milliseconds(min_heartbeat_ms) ||
      options_.heartbeat > std::chrono::milliseconds(max_heartbeat_ms)) {
    throw Error(Errc::invalid_argument,
                fmt::format("heartbeat of {} ms: importers accept {}..{} ms; choose one in that range (default 1000)",
                            options_.heartbeat.count(), min_heartbeat_ms, max_heartbeat_ms));
  }
  std::error_code unreadable;
  if (!options_.socket_dir.empty() && !std::filesystem::is_directory(options_.socket_dir, unreadable)) {
    throw Error(Errc::invalid_argument, fmt::format("socket directory '{}' is not a directory: give the one the "
                                                    "publishers' --socket-dir names",
                                                    options_.socket_dir));
  }
  for (auto& config : options_.routes) {
    validate_name("topic", config.topic, max_topic_length);
    if (config.key.empty()) {
      config.key = config.topic;
    }
    // The key charset is shmsnap's name charset: valid as a NATS subject token
    // sequence and free of '/', which schema keys use.
    validate_key(config.key);
    if (config.max_rate_hz < 0) {
      throw Error(Errc::invalid_argument, fmt::format("topic '{}': --max-rate must be >= 0", config.topic));
    }
    auto route = std::make_unique<Route>();
    route->config = config;
    routes_.push_back(std::move(route));
  }
  for (auto& route : routes_) {
    try_attach(*route, true);
  }
  if (options_.all) {
    if (options_.host_id.empty()) {
      options_.host_id = default_host_id();
    }
    validate_host_id(options_.host_id);
    if (options_.scan_period <= std::chrono::milliseconds(0) || options_.max_topics == 0) {
      throw Error(Errc::invalid_argument, "--all needs a scan period > 0 ms and max topics > 0");
    }
    scan_topics(monotonic_ns());
  }
}

Exporter::~Exporter() {
  for (auto& route : routes_) {
    if (route->has_value && route->core) {
      put_final(*route, flag_exporter_stopped | (route->stale ? flag_origin_stale : 0));
    }
    if (route->core) {
      loop_->poller.remove(*route->core);
    }
  }
}

void Exporter::try_attach(Route& route, bool at_start) {
  const std::string& topic = route.config.topic;
  try {
    SubscriberOptions subscriber_options{.prefix = options_.prefix};
    subscriber_options.socket_dir = options_.socket_dir;
    route.core = std::make_unique<UntypedSubscriber>(topic, nullptr, subscriber_options);
  } catch (const Error& error) {
    if (error.code() != Errc::not_found) {
      throw;
    }
    if (!route.announced_wait) {
      route.announced_wait = true;
      spdlog::info("export '{}': waiting for a publisher ({})", topic, error.what());
    }
    route.next_attach_ns = monotonic_ns() + attach_retry_ns;
    return;
  }
  UntypedSubscriber& core = *route.core;
  const std::string why = [&]() -> std::string {
    // An importer stamps the origin host's id into the regions it creates, whatever
    // the process is called: exporting such a topic again would loop.
    const std::uint64_t origin_id = core.region() != nullptr ? core.region()->origin_id() : 0;
    if (!options_.force && origin_id != 0) {
      return fmt::format(
          "topic '{}' was imported from another host by a bridge (origin id {:#018x}, publisher pid {}); "
          "exporting it back would loop. Pass --force to export it anyway",
          topic, origin_id, core.publisher_pid());
    }
    const std::uint64_t snapshot_size = core.bytes().size();
    if (snapshot_size > options_.max_snapshot_bytes || snapshot_size > max_chunked_size) {
      return fmt::format(
          "topic '{}': a snapshot of {} bytes is above the largest this exporter carries ({} bytes); raise "
          "--max-snapshot (at most {} bytes) or export a smaller topic",
          topic, snapshot_size, std::min(options_.max_snapshot_bytes, max_chunked_size), max_chunked_size);
    }
    const std::uint64_t value_size = envelope_header_size + std::min(host_.size(), max_host_length) + snapshot_size;
    const std::int64_t limit = link_.max_payload();
    if (limit > 0 && value_size > static_cast<std::uint64_t>(limit)) {
      // Chunks of at most max_payload (header included); the manifest envelope is small.
      const std::uint64_t room = static_cast<std::uint64_t>(limit);
      if (room <= chunk_header_size + envelope_header_size + max_host_length + manifest_size ||
          !plan_chunks(snapshot_size,
                       static_cast<std::uint32_t>(std::min<std::uint64_t>(room - chunk_header_size, UINT32_MAX)), 0,
                       0)) {
        return fmt::format(
            "topic '{}': a snapshot of {} bytes cannot cross a NATS server whose max_payload is {} bytes, even in "
            "chunks; raise max_payload in the nats-server configuration (e.g. 'max_payload: 8MB')",
            topic, snapshot_size, limit);
      }
      route.chunk_size = static_cast<std::uint32_t>(std::min<std::uint64_t>(room - chunk_header_size, UINT32_MAX));
      route.max_value = room;
    }
    return "";
  }();
  if (!why.empty()) {
    route.core.reset();
    if (at_start) {
      throw Error(why.find("bytes") != std::string::npos ? Errc::limit_exceeded : Errc::invalid_argument, why);
    }
    // `all` meets every imported topic of a mirroring host: expected, not an error.
    spdlog::log(route.discovered ? spdlog::level::info : spdlog::level::err, "export '{}' disabled: {}", topic, why);
    route.disabled = true;
    return;
  }
  Route* target = &route;
  core.on_update([this, target](const UpdateInfo& info) {
    if (target->dirty) {
      counters_.conflated.fetch_add(1, std::memory_order_relaxed);
    }
    counters_.conflated.fetch_add(info.skipped, std::memory_order_relaxed);
    target->dirty = true;
    target->stale = info.stale;
    target->has_value = true;
  });
  core.on_status([this, target](StatusEvent event, const UpdateInfo& info) {
    // A re-attach alone clears nothing: until the new epoch publishes, the value
    // we hold is still the lost publisher's, and heartbeats must keep saying so.
    if (event != StatusEvent::publisher_lost) {
      return;
    }
    target->stale = true;
    if (target->has_value) {
      spdlog::warn("export '{}': publisher lost; telling importers (epoch {}, seq {})", target->config.topic,
                   info.epoch, info.seq);
      target->dirty = true;  // put the last state again, flagged stale
    }
  });
  loop_->poller.add(core);
  if (route.discovered) {
    counters_.topics_added.fetch_add(1, std::memory_order_relaxed);
  }
  spdlog::info("export '{}' -> key '{}' (publisher pid {}, epoch {}, schema {} v{}, {} bytes)", topic, route.config.key,
               core.publisher_pid(), core.info().epoch, core.schema().name, core.schema().version, core.bytes().size());
  if (core.has_value()) {
    route.dirty = true;
    route.has_value = true;
  }
}

void Exporter::scan_topics(std::int64_t now) {
  next_scan_ns_ = now + std::chrono::nanoseconds(options_.scan_period).count();
  std::vector<std::string> present;
  try {
    present = options_.socket_dir.empty() ? admin::find_topics(options_.prefix)  // sorted
                                          : admin::find_socket_topics(options_.socket_dir);
  } catch (const Error& error) {
    spdlog::warn("export --all: cannot list the topics of {}: {}; trying again",
                 options_.socket_dir.empty() ? "prefix '" + options_.prefix + "'" : options_.socket_dir, error.what());
    return;
  }
  // Gone: the region was removed (its publisher stopped cleanly, or `shmsnap clean`),
  // or in socket mode the socket (a killed publisher leaves its socket: that topic
  // stays, stale, until a successor takes it over).
  std::erase_if(routes_, [&](const std::unique_ptr<Route>& route) {
    if (!route->discovered || std::binary_search(present.begin(), present.end(), route->config.topic)) {
      return false;
    }
    drop(*route);
    return true;
  });
  std::size_t discovered = static_cast<std::size_t>(
      std::count_if(routes_.begin(), routes_.end(), [](const auto& route) { return route->discovered; }));
  for (const std::string& topic : present) {
    const bool known =
        std::any_of(routes_.begin(), routes_.end(), [&](const auto& route) { return route->config.topic == topic; });
    if (known) {
      continue;
    }
    if (discovered >= options_.max_topics) {
      if (!announced_topic_limit_) {
        announced_topic_limit_ = true;
        spdlog::warn(
            "export --all: following {} topics already, the limit; '{}' and later ones are not exported "
            "(raise --max-topics)",
            discovered, topic);
      }
      break;
    }
    auto route = std::make_unique<Route>();
    route->config = {.topic = topic, .key = host_key(options_.host_id, topic), .max_rate_hz = options_.all_max_rate_hz};
    route->discovered = true;
    route->announced_wait = true;  // a region without a publisher yet: no message, the next scan retries
    try {
      validate_key(route->config.key);
      try_attach(*route, false);
    } catch (const Error& error) {
      spdlog::warn("export --all: topic '{}' not exported: {}", topic, error.what());
      route->disabled = true;
    }
    routes_.push_back(std::move(route));
    ++discovered;
  }
}

void Exporter::drop(Route& route) {
  spdlog::info("export --all: topic '{}' is gone; deleting key '{}'", route.config.topic, route.config.key);
  if (route.core) {
    if (route.has_value) {
      put_final(route, flag_exporter_stopped | flag_origin_stale);
    }
    loop_->poller.remove(*route.core);
    route.core.reset();
  }
  if (!route.in_flight_flags.empty()) {
    // Its acks still come and count, against no route: not against a topic of the
    // same name that appears before they do.
    by_key_.erase(route.config.key);
    orphaned_acks_[route.config.key] += route.in_flight_flags.size();
  }
  // Deleted keys tell importers to drop their copies; a late importer finds nothing.
  std::string error;
  if ((route.has_value || route.schema_fingerprint_put != 0) &&
      (!link_.remove(route.config.key, error) || !link_.remove(schema_key(route.config.key), error))) {
    counters_.put_errors.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("export --all: cannot delete key '{}' of the gone topic '{}': {}", route.config.key,
                 route.config.topic, error);
  }
  for (std::uint32_t slot = 0; slot < 2; ++slot) {
    for (std::uint32_t index = 0; index < route.chunk_count; ++index) {
      (void)link_.remove(chunk_key(route.config.key, slot, index), error);  // best effort: only space
    }
  }
  if (!route.disabled) {
    counters_.topics_dropped.fetch_add(1, std::memory_order_relaxed);
  }
}

bool Exporter::put_schema(Route& route) {
  const SchemaInfo& schema = route.core->schema();
  if (schema.fingerprint == route.schema_fingerprint_put && schema.descriptor == route.schema_descriptor_put) {
    return true;
  }
  const std::string record = encode_schema_record(SchemaRecord{.name = std::string(schema.name),
                                                               .version = schema.version,
                                                               .fingerprint = schema.fingerprint,
                                                               .size = schema.size,
                                                               .descriptor = std::string(schema.descriptor)});
  std::string error;
  if (!link_.put(schema_key(route.config.key),
                 std::span(reinterpret_cast<const std::byte*>(record.data()), record.size()), error)) {
    counters_.put_errors.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("export '{}': schema put failed: {}", route.config.topic, error);
    route.dirty = true;
    route.next_allowed_ns = monotonic_ns() + put_retry_ns;
    return false;
  }
  route.schema_fingerprint_put = schema.fingerprint;
  route.schema_descriptor_put.assign(schema.descriptor);
  return true;
}

bool Exporter::put_chunks(Route& route, std::span<const std::byte> snapshot) {
  const UntypedSubscriber& core = *route.core;
  const UpdateInfo& info = core.info();
  if (route.chunks_written && route.chunked_epoch == info.epoch && route.chunked_seq == info.seq) {
    return true;  // a heartbeat or a flag change: the chunks of this snapshot are stored
  }
  // The other slot: the chunks the last manifest names stay whole while these are
  // written, so an importer reading them is not cut short by every new snapshot.
  const std::uint32_t slot = route.slot ^ 1U;
  const std::optional<ChunkManifest> plan = plan_chunks(snapshot.size(), route.chunk_size, route.snapshot_id + 1, slot);
  if (!plan) {
    return false;  // try_attach checked the plan for the full size, and this is at most that
  }
  route.chunks_written = false;
  std::string error;
  for (std::uint32_t index = 0; index < plan->chunk_count; ++index) {
    encode_chunk(*plan, index, snapshot, route.buffer);
    if (!link_.put(chunk_key(route.config.key, slot, index), route.buffer, error)) {
      counters_.put_errors.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("export '{}': chunk {} put failed (kept for a retry): {}", route.config.topic, index, error);
      return false;
    }
  }
  counters_.chunks.fetch_add(plan->chunk_count, std::memory_order_relaxed);
  route.snapshot_id = plan->snapshot_id;
  route.slot = slot;
  route.chunks_written = true;
  route.chunk_count = plan->chunk_count;
  route.chunked_epoch = info.epoch;
  route.chunked_seq = info.seq;
  encode_manifest(*plan, route.manifest);
  return true;
}

bool Exporter::encode_value(Route& route, std::uint16_t flags, std::int64_t now) {
  const std::span<const std::byte> snapshot = route.carried();
  // Sizes are at most max_chunked_size (1 GiB) plus 64 + 255: no overflow.
  const bool chunked =
      route.chunk_size > 0 &&
      envelope_header_size + std::min(host_.size(), max_host_length) + snapshot.size() > route.max_value;
  if (chunked && !put_chunks(route, snapshot)) {
    return false;
  }
  const UntypedSubscriber& core = *route.core;
  const UpdateInfo& info = core.info();
  // Monotonic clocks are per host: the wire carries wall-clock times.
  const std::int64_t realtime_offset = realtime_ns() - now;
  const Envelope envelope{.flags = static_cast<std::uint16_t>(flags | (chunked ? flag_chunked : 0)),
                          .epoch = info.epoch,
                          .seq = info.seq,
                          .publish_time_ns = info.publish_ts_ns + realtime_offset,
                          .sent_time_ns = now + realtime_offset,
                          .fingerprint = core.schema().fingerprint,
                          .heartbeat_ms = static_cast<std::uint32_t>(options_.heartbeat.count()),
                          .origin_pid = static_cast<std::uint32_t>(core.publisher_pid()),
                          .origin_host = host_,
                          .payload = chunked ? std::span<const std::byte>(route.manifest) : snapshot};
  encode_envelope(envelope, route.buffer);
  return true;
}

bool Exporter::may_put(const Route& route, std::int64_t now) const {
  // One put per key in flight: its successor waits as `dirty`, and refreshes
  // meanwhile replace it (counted as conflated by on_update). Unless its ack is
  // overdue: then a few more may go.
  if (in_flight_ >= options_.window) {
    return false;
  }
  return route.in_flight_flags.empty() ||
         (now - route.last_put_ns >= overdue_ack_ns && route.in_flight_flags.size() < max_puts_per_key);
}

bool Exporter::put_value(Route& route, std::uint16_t flags) {
  const std::int64_t now = monotonic_ns();
  if (!may_put(route, now)) {
    route.dirty = true;
    return false;
  }
  if (!put_schema(route)) {
    return false;
  }
  std::string error;
  if (!encode_value(route, flags, now)) {
    counters_.failed.fetch_add(1, std::memory_order_relaxed);
    route.dirty = true;
    route.next_allowed_ns = now + put_retry_ns;
    return false;
  }
  if (!link_.put_async(route.config.key, route.buffer, error)) {
    counters_.put_errors.fetch_add(1, std::memory_order_relaxed);
    counters_.failed.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("export '{}': put failed (kept for a retry): {}", route.config.topic, error);
    route.dirty = true;  // the latest state goes out once NATS takes puts again
    route.next_allowed_ns = now + put_retry_ns;
    return false;
  }
  counters_.sent.fetch_add(1, std::memory_order_relaxed);
  route.in_flight_flags.push_back(flags);
  by_key_[route.config.key] = &route;
  ++in_flight_;
  route.last_put_ns = now;
  route.dirty = false;
  return true;
}

void Exporter::put_final(Route& route, std::uint16_t flags) {
  if (!put_schema(route)) {
    return;
  }
  std::string error;
  if (!encode_value(route, flags, monotonic_ns()) || !link_.put(route.config.key, route.buffer, error)) {
    counters_.put_errors.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("export '{}': last put ({}) failed: {}; importers mark the topic stale after 3 heartbeats instead",
                 route.config.topic, flags, error);
    return;
  }
  counters_.exported.fetch_add(1, std::memory_order_relaxed);
}

void Exporter::take_acks() {
  acks_.clear();
  link_.take_put_results(acks_);
  const std::int64_t now = monotonic_ns();
  for (const PutResult& result : acks_) {
    in_flight_ -= in_flight_ > 0 ? 1 : 0;
    if (result.ok) {
      counters_.acked.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.failed.fetch_add(1, std::memory_order_relaxed);
      counters_.put_errors.fetch_add(1, std::memory_order_relaxed);
    }
    if (const auto orphaned = orphaned_acks_.find(result.key); orphaned != orphaned_acks_.end()) {
      if (--orphaned->second == 0) {
        orphaned_acks_.erase(orphaned);
      }
      continue;  // a dropped topic's put (acks of one key come in the order of its puts)
    }
    const auto found = by_key_.find(result.key);
    if (found == by_key_.end()) {
      continue;
    }
    Route& route = *found->second;
    const std::uint16_t flags = route.in_flight_flags.empty() ? 0 : route.in_flight_flags.front();
    if (!route.in_flight_flags.empty()) {
      route.in_flight_flags.pop_front();
    }
    if (route.in_flight_flags.empty()) {
      by_key_.erase(found);
    }
    if (!result.ok) {
      spdlog::debug("export '{}': put failed (the latest state is put again): {}", route.config.topic, result.error);
      route.dirty = true;
      route.next_allowed_ns = now + put_retry_ns;
    } else if ((flags & flag_heartbeat) != 0) {
      counters_.heartbeats.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.exported.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void Exporter::run_once(std::chrono::milliseconds max_wait) {
  std::int64_t now = monotonic_ns();
  std::int64_t wake = now + std::chrono::nanoseconds(max_wait).count();
  for (const auto& route : routes_) {
    if (route->dirty) {
      // A successor waiting on an ack goes when the ack wakes the poller, or when
      // the ack is overdue; one waiting on the window goes at any ack.
      if (in_flight_ >= options_.window || route->in_flight_flags.size() >= max_puts_per_key) {
        continue;
      }
      wake = std::min(wake, route->in_flight_flags.empty()
                                ? route->next_allowed_ns
                                : std::max(route->next_allowed_ns, route->last_put_ns + overdue_ack_ns));
    }
  }
  loop_->poller.wait(std::chrono::nanoseconds(std::max<std::int64_t>(0, wake - now)));
  take_acks();
  now = monotonic_ns();
  const std::int64_t heartbeat_ns = std::chrono::nanoseconds(options_.heartbeat).count();
  if (options_.all && now >= next_scan_ns_) {
    scan_topics(now);
  }
  for (auto& route : routes_) {
    if (route->disabled) {
      continue;
    }
    if (!route->core) {
      if (now >= route->next_attach_ns) {
        try_attach(*route, false);
      }
      continue;
    }
    const std::uint16_t stale_flag = route->stale ? flag_origin_stale : 0;
    if (route->dirty && now >= route->next_allowed_ns && may_put(*route, now)) {
      if (put_value(*route, stale_flag) && route->config.max_rate_hz > 0) {
        route->next_allowed_ns = now + static_cast<std::int64_t>(1e9 / route->config.max_rate_hz);
      }
    } else if (route->has_value && !route->dirty && route->in_flight_flags.empty() &&
               now - route->last_put_ns >= heartbeat_ns) {
      put_value(*route, flag_heartbeat | stale_flag);
    }
  }
  counters_.reconnects.store(link_.reconnects(), std::memory_order_relaxed);
}

}  // namespace shmsnap::bridge
