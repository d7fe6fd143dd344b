// The untyped publisher's engine: it creates the topic, composes the parts
// (slot_writer.hpp, fan_out_notifier.hpp, registry.hpp, control_loop.hpp, and in
// socket mode socket_acceptor.hpp), routes the control loop's events to them, and runs the path of one publish:
// the slot writer's begin_write -> payload -> commit_write, then the fan-out.
// The publishing thread calls the writer functions; shutdown() and the destructor
// may be called from any one thread.

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

#include "publisher/control_loop.hpp"
#include "publisher/fan_out_notifier.hpp"
#include "publisher/registry.hpp"
#include "publisher/slot_writer.hpp"
#include "publisher/socket_acceptor.hpp"
#include "region/region_writer.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/region.hpp"
#include "system/log.hpp"

namespace shmsnap {
namespace {

using detail::log;

// Subscribers may write the control queue when they may read the region: the
// region's read bits become the queue's write bits (0640 -> 0620).
mode_t control_queue_mode(mode_t region_mode) {
  const mode_t read_bits = region_mode & 0444;
  return 0600 | (read_bits >> 1);
}

detail::RegionWriter create_region(const TopicNames& names, const SchemaInfo& schema, std::size_t payload_size,
                                   const PublisherOptions& options, detail::PreviousOwner& previous) {
  if (payload_size != schema.size) {
    throw Error(Errc::invalid_argument, "topic '" + names.topic + "': snapshot size " + std::to_string(payload_size) +
                                            " differs from its schema's size " + std::to_string(schema.size));
  }
  detail::RegionSpec spec;
  spec.shm_name = names.region();
  spec.topic = names.topic;
  spec.mode = options.mode;
  spec.slot_count = options.slot_count;
  spec.max_subscribers = options.max_subscribers;
  spec.payload_size = static_cast<std::uint32_t>(payload_size);
  spec.schema = schema;
  spec.origin_id = options.origin_id;
  if (!options.socket_dir.empty()) {
    // No name, so no predecessor's header to count epochs from: the wall clock
    // gives a successor a different (and almost always larger) epoch.
    return detail::RegionWriter::create_sealed(spec,
                                               static_cast<std::uint64_t>(std::max<std::int64_t>(1, realtime_ns())));
  }
  return detail::RegionWriter::create(spec, previous);
}

detail::ControlLoop::Options control_loop_options(const TopicNames& names, const PublisherOptions& options) {
  return detail::ControlLoop::Options{
      .topic = names.topic,
      .control_queue = options.socket_dir.empty() ? names.control_queue() : std::string(),
      .mode = control_queue_mode(options.mode),
      .period = options.heartbeat_interval};
}

}  // namespace

// The engine. Each part owns its state and says which thread may touch it; the
// engine holds what they share (the region, whose words each part writes are
// listed in its header) and the order of the lifecycle: create the region, the
// control queue, tell a dead predecessor's subscribers, start the threads; close
// in reverse. Members are declared in the order they are built.
struct UntypedPublisher::State final : detail::ControlLoop::Handler {
  TopicNames names;
  detail::PreviousOwner previous;  // what creating the region learned; read once at construction
  detail::RegionWriter region;
  std::uint32_t payload_bytes;
  detail::SlotWriter writer;
  detail::FanOutNotifier fan_out;
  detail::ControlLoop control_loop;
  detail::Registry registry;
  std::optional<detail::SocketAcceptor> acceptor;  // socket mode only
  bool shut_down = false;                          // the closing thread's

  State(std::string_view topic, const SchemaInfo& schema, std::size_t payload_size, const PublisherOptions& opts);
  ~State() override;
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  void close() noexcept;

  // ControlLoop::Handler: the control thread's events, routed to the registry.
  void on_control_message(std::span<const std::byte> message) noexcept override {
    registry.handle_control_message(message);
  }
  void on_ready(std::uint64_t key) noexcept override {
    if (detail::SocketAcceptor::owns(key)) {
      acceptor->on_ready(key);
    } else {
      registry.on_watch_fired(key);
    }
  }
  void on_tick() noexcept override;
  [[nodiscard]] bool wants_fast_ticks() const noexcept override { return registry.has_pending_replies(); }
};

UntypedPublisher::State::State(std::string_view topic, const SchemaInfo& schema, std::size_t payload_size,
                               const PublisherOptions& opts)
    : names(opts.prefix, topic),
      region(create_region(names, schema, payload_size, opts, previous)),
      payload_bytes(static_cast<std::uint32_t>(payload_size)),
      writer(region, opts.slot_count),
      fan_out(opts.max_subscribers, opts.fan_out, region.epoch()),
      control_loop(control_loop_options(names, opts), *this, region.header().heartbeat_ns),
      registry(names, opts.max_subscribers, region, fan_out, control_loop) {
  if (!opts.socket_dir.empty()) {
    acceptor.emplace(opts.socket_dir, names.topic,
                     detail::AdmissionPolicy{.uids = opts.allow_uids, .gids = opts.allow_gids}, region, registry,
                     control_loop);
  }
  registry.announce_new_epoch(previous);
  previous = {};
  // The notifier first: it uses nothing of the others, so if starting the control
  // thread throws, no running thread is left touching a part being destroyed.
  fan_out.start();
  control_loop.start();
  log().info("topic '{}' published at {} (epoch {}, {} slots of {} bytes, schema {} v{})", names.topic,
             acceptor ? "the socket " + acceptor->path() + " (sealed memfd)" : "/dev/shm" + names.region(),
             region.epoch(), opts.slot_count, payload_size, schema.name, schema.version);
}

UntypedPublisher::State::~State() {
  close();
}

void UntypedPublisher::State::close() noexcept {
  control_loop.stop();
  fan_out.stop();
  if (!shut_down) {
    shut_down = true;
    writer.mark_closed();
    fan_out.notify_all(NotifyKind::shutdown, writer.last_seq(), monotonic_ns());
    control_loop.close_queue();
    acceptor.reset();  // removes the socket: no new subscriber finds a closed topic
    region.close();
    log().info("topic '{}' closed after {} publishes", names.topic, writer.published());
  }
}

void UntypedPublisher::State::on_tick() noexcept {
  if (acceptor) {
    acceptor->expire_pending();
  }
  registry.retry_pending_replies();
  registry.sweep_and_mirror();
  detail::RegionHeader& header = region.header();
  header.published_count.store(writer.published(), std::memory_order_relaxed);
  header.coalesced_count.store(fan_out.coalesced_total(), std::memory_order_relaxed);
  header.reclaimed_count.store(registry.reclaimed(), std::memory_order_relaxed);
}

UntypedPublisher::UntypedPublisher(std::string_view topic, const SchemaInfo& schema, std::size_t payload_size,
                                   const PublisherOptions& options)
    : state_(std::make_unique<State>(topic, schema, payload_size, options)) {}

UntypedPublisher::~UntypedPublisher() = default;

void UntypedPublisher::shutdown() noexcept {
  state_->close();
}

std::byte* UntypedPublisher::begin_write() noexcept {
  SHMSNAP_EXPECTS(!state_->shut_down);  // not after shutdown()
  return state_->writer.begin_write();
}

std::uint64_t UntypedPublisher::commit_write() noexcept {
  return commit_write(state_->payload_bytes);
}

std::uint64_t UntypedPublisher::commit_write(std::size_t used_bytes) noexcept {
  State& state = *state_;
  SHMSNAP_EXPECTS(used_bytes <= state.payload_bytes && "a snapshot longer than the topic's payload size");
  const detail::SlotWriter::Committed committed = state.writer.commit_write(used_bytes);
  // After the published word's release store (commit_write): see its comment.
  state.fan_out.notify_update(committed.seq, committed.ts);
  return committed.seq;
}

void UntypedPublisher::abort_write() noexcept {
  state_->writer.abort_write();
}

std::uint64_t UntypedPublisher::publish(const void* data, std::size_t size) noexcept {
  SHMSNAP_EXPECTS(size <= state_->payload_bytes);
  SHMSNAP_EXPECTS(!state_->writer.loan_open() && "publish() while a Loan is open: publish or drop the Loan first");
  std::byte* slot_payload = begin_write();
  copy_to_shared(slot_payload, data, size);
  return commit_write(size);
}

void UntypedPublisher::mark_source_lost() noexcept {
  State& state = *state_;
  SHMSNAP_EXPECTS(!state.shut_down);
  state.writer.mark_source_lost();
  // A wake-up with no new snapshot: subscribers look at the state word at once.
  state.fan_out.notify_all(NotifyKind::update, state.writer.last_seq(), monotonic_ns());
}

PublisherStats UntypedPublisher::stats() const noexcept {
  const State& state = *state_;
  PublisherStats stats;
  // The count before the reclaims: a reaped subscriber is counted as reclaimed before
  // it leaves the count (Registry::reap), so no caller sees it gone but not reclaimed.
  stats.subscribers = state.registry.subscribers();
  stats.published = state.writer.published();
  stats.notified = state.fan_out.notified_total();
  stats.coalesced = state.fan_out.coalesced_total();
  stats.send_errors = state.fan_out.send_errors();
  stats.reclaimed = state.registry.reclaimed();
  stats.rejected = state.registry.rejected() + (state.acceptor ? state.acceptor->refused() : 0);
  stats.dropped_control = state.registry.dropped_control();
  return stats;
}

std::uint64_t UntypedPublisher::epoch() const noexcept {
  return state_->region.epoch();
}

std::uint64_t UntypedPublisher::last_seq() const noexcept {
  return state_->writer.last_seq();
}

const std::string& UntypedPublisher::topic() const noexcept {
  return state_->names.topic;
}

const std::string& UntypedPublisher::region_name() const noexcept {
  return state_->region.name();
}

}  // namespace shmsnap
