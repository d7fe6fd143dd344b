#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "fan_out_table.hpp"
#include "fault_injection.hpp"
#include "log.hpp"
#include "process.hpp"
#include "region_writer.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/message_queue.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/protocol.hpp"
#include "shmsnap/publisher.hpp"

namespace shmsnap {
namespace {

using detail::log;

// A WELCOME may wait for the subscriber to drain an UPDATE that got there first;
// it is retried this long, at this period, and at most this many wait at once.
constexpr std::int64_t reply_retry_window_ns = 200'000'000;
constexpr int reply_retry_period_ms = 1;
constexpr std::size_t max_pending_replies = 64;
constexpr std::uint64_t stop_key = ~std::uint64_t{0};
constexpr std::uint64_t control_key = ~std::uint64_t{0} - 1;
// Garbage on the control queue is logged at most this often.
constexpr std::int64_t drop_log_interval_ns = 1'000'000'000;

// Subscribers may write the control queue when they may read the region: the
// region's read bits become the queue's write bits (0640 -> 0620).
mode_t control_queue_mode(mode_t region_mode) {
  const mode_t read_bits = region_mode & 0444;
  return 0600 | (read_bits >> 1);
}

}  // namespace

/// One registered subscriber, as the publisher holds it.
struct SubscriberLink {
  std::uint64_t key = 0;  // epoll key of its pidfd
  std::string id;
  pid_t pid = 0;
  std::uint64_t start_time = 0;
  std::uint32_t flags = 0;
  std::uint32_t table_index = 0;
  std::uint64_t nonce = 0;  // the HELLO's secret: a BYE must carry it
  int pidfd = -1;
  MessageQueue queue;  // its descriptor is in State::fan_out at table_index
};

/// An answer (WELCOME/REJECTED) that found its queue full, retried by the
/// control loop until `deadline_ns` without blocking other registrations.
struct PendingReply {
  std::uint64_t link_key = 0;  // send through this registered link's queue, or
  MessageQueue queue;          // through this one (answers to unregistered peers)
  NotifyMessage message;
  std::int64_t deadline_ns = 0;
};

struct PublisherCore::State {
  TopicNames names;
  PublisherOptions options;
  detail::RegionWriter region;
  MessageQueue control;
  std::uint64_t fault_seq = 0;
  std::uint64_t epoch = 0;  // copies of header fields, valid after close()
  std::uint32_t payload_bytes = 0;

  // Writer state: touched only by the publishing thread.
  std::uint64_t seq = 0;
  std::uint32_t current_slot = 0;
  std::uint32_t loan_slot = 0;
  bool loan_open = false;  // between begin_write and commit_write/abort_write

  // Registered subscribers: the control thread's alone (after stop_threads, the
  // closing thread's). The fan-out reads `fan_out`, never `links`, and takes no lock,
  // so an attaching or dying subscriber can never stall publish().
  std::vector<std::unique_ptr<SubscriberLink>> links;
  detail::FanOutTable fan_out;
  std::atomic<std::uint64_t> subscriber_count{0};
  std::uint64_t next_key = 1;

  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> notified{0};
  std::atomic<std::uint64_t> coalesced{0};
  std::atomic<std::uint64_t> send_errors{0};
  std::atomic<std::uint64_t> reclaimed{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> dropped_control{0};
  std::int64_t last_drop_log_ns = 0;
  std::vector<PendingReply> pending_replies;  // control thread only

  // Notifier thread (FanOut::notifier_thread): publish() bumps `pending_seq` and
  // wakes it; it sends UPDATE for the newest sequence.
  std::atomic<std::uint64_t> pending_seq{0};
  std::atomic<std::int64_t> pending_ts{0};
  std::atomic<bool> stopping{false};
  std::thread notifier;

  int epoll_fd = -1;
  int stop_fd = -1;
  std::thread control_thread;
  bool shut_down = false;

  State(std::string_view topic, const SchemaInfo& schema, std::size_t payload_size, const PublisherOptions& opts);
  ~State();

  void start_threads();
  void close() noexcept;
  void stop_threads() noexcept;
  void notify_all(NotifyKind kind, std::uint64_t seq_value, std::int64_t ts) noexcept;
  void notifier_loop() noexcept;
  void control_loop() noexcept;
  void drain_control() noexcept;
  void handle_hello(const ControlMessage& hello) noexcept;
  void handle_bye(const ControlMessage& bye) noexcept;
  void reap(std::uint64_t key, const char* why) noexcept;
  std::unique_ptr<SubscriberLink> unregister(std::uint64_t key) noexcept;
  void sweep_and_mirror() noexcept;
  void write_table_entry(const SubscriberLink& link, bool active) noexcept;
  void announce_to_previous(const detail::PreviousOwner& previous) noexcept;
  void drop_control(const std::string& why) noexcept;
  void reply(const ControlMessage& hello, MessageQueue queue, std::uint64_t link_key, NotifyKind kind,
             RejectReason reason = RejectReason::none, pid_t holder = 0) noexcept;
  bool try_send_reply(PendingReply& pending) noexcept;
  void retry_pending_replies() noexcept;
};

PublisherCore::State::State(std::string_view topic, const SchemaInfo& schema, std::size_t payload_size,
                            const PublisherOptions& opts)
    : names(opts.prefix, topic), options(opts), fan_out(opts.max_subscribers) {
  if (payload_size != schema.size) {
    throw Error(Errc::invalid_argument, "topic '" + names.topic + "': snapshot size " + std::to_string(payload_size) +
                                            " differs from its schema's size " + std::to_string(schema.size));
  }
  detail::RegionSpec spec;
  spec.shm_name = names.region();
  spec.topic = names.topic;
  spec.mode = opts.mode;
  spec.slot_count = opts.slot_count;
  spec.max_subscribers = opts.max_subscribers;
  spec.payload_size = static_cast<std::uint32_t>(payload_size);
  spec.schema = schema;
  detail::PreviousOwner previous;
  region = detail::RegionWriter::create(spec, previous);
  epoch = region.header().epoch;
  payload_bytes = spec.payload_size;
  fault_seq = detail::mid_write_fault_seq();

  // A dead publisher's control queue may linger; we own the topic now.
  MessageQueue::unlink(names.control_queue());
  MessageQueue::CreateOptions control_options;
  control_options.max_messages = MqLimits::read().msg_max;
  control_options.message_size = sizeof(ControlMessage);
  control_options.mode = control_queue_mode(opts.mode);
  control_options.access = MessageQueue::Access::read;
  control = MessageQueue::create(names.control_queue(), control_options);

  announce_to_previous(previous);
  start_threads();
  log().info("topic '{}' published at /dev/shm{} (epoch {}, {} slots of {} bytes, schema {} v{})", names.topic,
             names.region(), epoch, opts.slot_count, payload_size, schema.name, schema.version);
}

PublisherCore::State::~State() {
  close();
  if (epoll_fd >= 0) {
    ::close(epoll_fd);
  }
  if (stop_fd >= 0) {
    ::close(stop_fd);
  }
  for (auto& link : links) {
    if (link->pidfd >= 0) {
      ::close(link->pidfd);
    }
  }
}

void PublisherCore::State::close() noexcept {
  stop_threads();
  if (!shut_down) {
    shut_down = true;
    // Readers check the state word on every wake-up, so a SHUTDOWN that finds a
    // full queue is not lost: the pending message wakes them just the same.
    region.header().state.store(static_cast<std::uint32_t>(detail::RegionState::closed), std::memory_order_release);
    notify_all(NotifyKind::shutdown, seq, monotonic_ns());
    control.close();
    MessageQueue::unlink(names.control_queue());
    region.close();
    log().info("topic '{}' closed after {} publishes", names.topic, published.load());
  }
}

void PublisherCore::State::announce_to_previous(const detail::PreviousOwner& previous) noexcept {
  for (const auto& subscriber : previous.subscribers) {
    try {
      const std::string queue_name = names.notify_queue(subscriber.id);
      if (!detail::process_alive(subscriber.pid, 0)) {
        // It died with the old publisher: nobody else will remove its queue.
        if (MessageQueue::unlink(queue_name)) {
          reclaimed.fetch_add(1, std::memory_order_relaxed);
        }
        continue;
      }
      MessageQueue queue = MessageQueue::open(queue_name, MessageQueue::Access::write, true);
      NotifyMessage epoch_message;
      epoch_message.kind = NotifyKind::epoch;
      epoch_message.epoch = epoch;
      // A full queue already holds a wake-up; the subscriber re-reads the region then.
      queue.send(as_bytes(epoch_message), control_priority);
    } catch (const Error& failure) {
      log().debug("topic '{}': previous subscriber '{}' not told of the new epoch: {}", names.topic, subscriber.id,
                  failure.what());
    }
  }
}

void PublisherCore::State::start_threads() {
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd < 0 || stop_fd < 0) {
    throw Error(Errc::system, "topic '" + names.topic + "': cannot create the control loop's epoll/eventfd");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = stop_key;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, stop_fd, &event);
  event.data.u64 = control_key;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, control.native_handle(), &event);
  control_thread = std::thread([this] { control_loop(); });
  if (options.fan_out == FanOut::notifier_thread) {
    notifier = std::thread([this] { notifier_loop(); });
  }
}

void PublisherCore::State::stop_threads() noexcept {
  stopping.store(true, std::memory_order_release);
  if (stop_fd >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(stop_fd, &one, sizeof one);
  }
  if (control_thread.joinable()) {
    control_thread.join();
  }
  if (notifier.joinable()) {
    // atomic::wait returns only on a changed value: bump it (never sent, see notifier_loop).
    pending_seq.fetch_add(1, std::memory_order_release);
    pending_seq.notify_all();
    notifier.join();
  }
}

void PublisherCore::State::notify_all(NotifyKind kind, std::uint64_t seq_value, std::int64_t ts) noexcept {
  NotifyMessage message;
  message.kind = kind;
  message.seq = seq_value;
  message.publish_ts_ns = ts;
  message.epoch = epoch;
  const unsigned priority = kind == NotifyKind::update ? update_priority : control_priority;
  const detail::FanOutTable::PassResult pass = fan_out.fan_out(as_bytes(message), priority, kind == NotifyKind::update);
  const std::uint64_t sent = pass.sent;
  const std::uint64_t folded = pass.folded;
  const std::uint64_t failed = pass.failed;
  notified.fetch_add(sent, std::memory_order_relaxed);
  coalesced.fetch_add(folded, std::memory_order_relaxed);
  send_errors.fetch_add(failed, std::memory_order_relaxed);
}

void PublisherCore::State::notifier_loop() noexcept {
  std::uint64_t last_sent = 0;
  while (!stopping.load(std::memory_order_acquire)) {
    pending_seq.wait(last_sent, std::memory_order_acquire);  // pairs with publish()'s release store
    if (stopping.load(std::memory_order_acquire)) {
      return;
    }
    const std::uint64_t newest = pending_seq.load(std::memory_order_acquire);
    if (newest != last_sent) {
      notify_all(NotifyKind::update, newest, pending_ts.load(std::memory_order_relaxed));
      last_sent = newest;
    }
  }
}

void PublisherCore::State::control_loop() noexcept {
  std::array<epoll_event, 32> events{};
  const auto interval_ms = static_cast<int>(std::max<std::int64_t>(1, options.heartbeat_interval.count()));
  while (!stopping.load(std::memory_order_acquire)) {
    const int timeout_ms = pending_replies.empty() ? interval_ms : reply_retry_period_ms;
    const int ready = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int index = 0; index < ready; ++index) {
      const std::uint64_t key = events[static_cast<std::size_t>(index)].data.u64;
      if (key == stop_key) {
        return;
      }
      if (key == control_key) {
        drain_control();
      } else {
        reap(key, "exited");
      }
    }
    retry_pending_replies();
    sweep_and_mirror();
  }
}

void PublisherCore::State::drain_control() noexcept {
  std::array<std::byte, 8192> buffer{};
  for (int budget = 0; budget < 1024; ++budget) {
    const Received received = control.receive(buffer);
    if (received.status != QueueStatus::ok) {
      return;
    }
    const Parsed<ControlMessage> parsed = parse_control(std::span(buffer.data(), received.size));
    const std::optional<ControlMessage>& message = parsed.message;
    if (!message) {
      drop_control(parsed.problem);
      continue;
    }
    if (message->kind == ControlKind::hello) {
      handle_hello(*message);
    } else {
      handle_bye(*message);
    }
  }
}

void PublisherCore::State::drop_control(const std::string& why) noexcept {
  const std::uint64_t count = dropped_control.fetch_add(1, std::memory_order_relaxed) + 1;
  const std::int64_t now = monotonic_ns();
  if (now - last_drop_log_ns >= drop_log_interval_ns) {
    last_drop_log_ns = now;
    log().warn("topic '{}': dropped a control message ({}); {} dropped so far", names.topic, why, count);
  }
}

void PublisherCore::State::reply(const ControlMessage& hello, MessageQueue queue, std::uint64_t link_key,
                                 NotifyKind kind, RejectReason reason, pid_t holder) noexcept {
  PendingReply pending;
  pending.link_key = link_key;
  pending.queue = std::move(queue);
  pending.message.kind = kind;
  pending.message.detail = static_cast<std::uint32_t>(reason);
  pending.message.holder_pid = holder;
  pending.message.limit = reason == RejectReason::table_full ? options.max_subscribers : 0;
  pending.message.epoch = epoch;
  pending.message.nonce = hello.nonce;
  pending.deadline_ns = monotonic_ns() + reply_retry_window_ns;
  if (try_send_reply(pending)) {
    return;
  }
  if (pending_replies.size() >= max_pending_replies) {
    drop_control("too many answers waiting for full queues; dropped the one to '" + std::string(id_of(hello)) + "'");
    return;
  }
  pending_replies.push_back(std::move(pending));
}

bool PublisherCore::State::try_send_reply(PendingReply& pending) noexcept {
  QueueStatus status = QueueStatus::error;
  if (pending.link_key != 0) {
    const auto link = std::find_if(links.begin(), links.end(),
                                   [&](const auto& candidate) { return candidate->key == pending.link_key; });
    if (link == links.end()) {
      return true;  // it left or died meanwhile: nothing to answer
    }
    status = (*link)->queue.send(as_bytes(pending.message), control_priority);
  } else {
    status = pending.queue.send(as_bytes(pending.message), control_priority);
  }
  return status != QueueStatus::full;
}

void PublisherCore::State::retry_pending_replies() noexcept {
  const std::int64_t now = monotonic_ns();
  std::erase_if(pending_replies, [&](PendingReply& pending) {
    if (try_send_reply(pending)) {
      return true;
    }
    if (now >= pending.deadline_ns) {
      log().warn("topic '{}': gave up answering a HELLO: its queue stayed full (subscriber stopped?)", names.topic);
      return true;
    }
    return false;
  });
}

void PublisherCore::State::handle_hello(const ControlMessage& hello) noexcept {
  const std::string id(id_of(hello));
  if (hello.fingerprint != region.header().schema_fingerprint) {
    drop_control("HELLO from '" + id + "' for another schema fingerprint");
    return;
  }
  MessageQueue queue;
  try {
    // Only names derived from this topic are ever opened: the id was validated
    // against [A-Za-z0-9_.-], so it cannot leave the topic's namespace.
    queue = MessageQueue::open(names.notify_queue(id), MessageQueue::Access::write, true);
  } catch (const Error& failure) {
    drop_control("HELLO from '" + id + "' whose queue cannot be opened: " + failure.what());
    return;
  }
  if (hello.epoch != epoch) {
    rejected.fetch_add(1, std::memory_order_relaxed);
    reply(hello, std::move(queue), 0, NotifyKind::rejected, RejectReason::wrong_epoch);
    return;
  }
  const std::uint64_t start_time = detail::process_start_time(hello.pid);
  if (start_time == 0) {
    drop_control("HELLO from '" + id + "' naming pid " + std::to_string(hello.pid) + ", which does not exist");
    return;
  }
  // A subscriber creates its own queue: a HELLO naming someone else's pid (to
  // pin a table slot on a process that never exits) fails this check.
  if (queue.owner() != detail::process_owner(hello.pid)) {
    drop_control("HELLO from '" + id + "' naming pid " + std::to_string(hello.pid) +
                 ", which does not own the queue of that id");
    return;
  }
  const auto same_id = std::find_if(links.begin(), links.end(), [&](const auto& link) { return link->id == id; });
  if (same_id != links.end()) {
    SubscriberLink& holder = **same_id;
    if (holder.pid == hello.pid && holder.start_time == start_time) {
      // The same process again (a retried attach, or a new Subscriber after one
      // whose BYE was lost): its queue may be new, so notify the one it names now.
      fan_out.retire(holder.table_index);  // before the old descriptor is closed below
      holder.queue = std::move(queue);
      holder.nonce = hello.nonce;
      holder.flags = hello.flags;
      fan_out.add(holder.table_index, holder.queue.native_handle(), (holder.flags & hello_wants_notify) != 0);
      reply(hello, MessageQueue(), holder.key, NotifyKind::welcome);
      return;
    }
    if (detail::process_alive(holder.pid, holder.start_time)) {
      rejected.fetch_add(1, std::memory_order_relaxed);
      reply(hello, std::move(queue), 0, NotifyKind::rejected, RejectReason::id_in_use, holder.pid);
      return;
    }
    reap(holder.key, "replaced by a new holder of its id");
  }
  std::vector<bool> used(options.max_subscribers, false);
  for (const auto& link : links) {
    used[link->table_index] = true;
  }
  const auto free_slot = std::find(used.begin(), used.end(), false);
  if (free_slot == used.end()) {
    rejected.fetch_add(1, std::memory_order_relaxed);
    log().warn("topic '{}': refused subscriber '{}' (pid {}): max_subscribers = {} reached", names.topic, id, hello.pid,
               options.max_subscribers);
    reply(hello, std::move(queue), 0, NotifyKind::rejected, RejectReason::table_full);
    return;
  }
  auto link = std::make_unique<SubscriberLink>();
  link->key = next_key++;
  link->id = id;
  link->pid = hello.pid;
  link->start_time = start_time;
  link->flags = hello.flags;
  link->nonce = hello.nonce;
  link->table_index = static_cast<std::uint32_t>(free_slot - used.begin());
  link->pidfd = detail::open_pidfd(hello.pid);
  link->queue = std::move(queue);
  if (link->pidfd >= 0) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = link->key;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, link->pidfd, &event);
  }
  write_table_entry(*link, true);
  const std::uint64_t key = link->key;
  // Registered before WELCOME: every publish from here on notifies it, and after
  // WELCOME it reads the region, so no snapshot falls in between.
  fan_out.add(link->table_index, link->queue.native_handle(), (link->flags & hello_wants_notify) != 0);
  links.push_back(std::move(link));
  subscriber_count.store(links.size(), std::memory_order_relaxed);
  reply(hello, MessageQueue(), key, NotifyKind::welcome);
  log().info("topic '{}': subscriber '{}' (pid {}) attached", names.topic, id, hello.pid);
}

void PublisherCore::State::handle_bye(const ControlMessage& bye) noexcept {
  // The nonce proves the BYE comes from the subscriber: its id and pid are public.
  const auto leaving = std::find_if(links.begin(), links.end(), [&](const auto& link) {
    return link->id == id_of(bye) && link->pid == bye.pid && link->nonce == bye.nonce;
  });
  if (leaving == links.end()) {
    drop_control("BYE for '" + std::string(id_of(bye)) + "' (pid " + std::to_string(bye.pid) +
                 ") that matches no registration");
    return;
  }
  const std::unique_ptr<SubscriberLink> link = unregister((*leaving)->key);
  log().info("topic '{}': subscriber '{}' (pid {}) left", names.topic, link->id, link->pid);
}

std::unique_ptr<SubscriberLink> PublisherCore::State::unregister(std::uint64_t key) noexcept {
  const auto found = std::find_if(links.begin(), links.end(), [&](const auto& link) { return link->key == key; });
  if (found == links.end()) {
    return nullptr;
  }
  std::unique_ptr<SubscriberLink> link = std::move(*found);
  links.erase(found);
  subscriber_count.store(links.size(), std::memory_order_relaxed);
  fan_out.retire(link->table_index);  // from here its queue may be closed
  write_table_entry(*link, false);
  if (link->pidfd >= 0) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, link->pidfd, nullptr);
    ::close(link->pidfd);
    link->pidfd = -1;
  }
  return link;
}

void PublisherCore::State::reap(std::uint64_t key, const char* why) noexcept {
  const std::unique_ptr<SubscriberLink> dead = unregister(key);
  if (!dead) {
    return;
  }
  // The subscriber can no longer unlink its own queue: we do, so nothing leaks;
  // but only if the name is still its queue, not a successor's with the same id.
  MessageQueue::unlink_if_same(names.notify_queue(dead->id), dead->queue.inode());
  reclaimed.fetch_add(1, std::memory_order_relaxed);
  log().info("topic '{}': subscriber '{}' (pid {}) {}; its queue and table slot are reclaimed", names.topic, dead->id,
             dead->pid, why);
}

void PublisherCore::State::sweep_and_mirror() noexcept {
  // Without a pidfd (old kernels) this sweep is the only death detector.
  std::vector<std::uint64_t> dead;
  for (const auto& link : links) {
    if (!detail::process_alive(link->pid, link->start_time)) {
      dead.push_back(link->key);
    }
  }
  for (const std::uint64_t key : dead) {
    reap(key, "exited");
  }
  for (const auto& link : links) {
    detail::SubscriberEntry& entry = region.entry(link->table_index);
    entry.notified.store(fan_out.notified(link->table_index), std::memory_order_relaxed);
    entry.coalesced.store(fan_out.coalesced(link->table_index), std::memory_order_relaxed);
  }
  detail::RegionHeader& header = region.header();
  header.heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
  header.published_count.store(published.load(std::memory_order_relaxed), std::memory_order_relaxed);
  header.coalesced_count.store(coalesced.load(std::memory_order_relaxed), std::memory_order_relaxed);
  header.reclaimed_count.store(reclaimed.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void PublisherCore::State::write_table_entry(const SubscriberLink& link, bool active) noexcept {
  detail::RegionHeader& header = region.header();
  detail::SubscriberEntry& entry = region.entry(link.table_index);
  header.table_version.write_begin(region.table_sequence());
  char id[sizeof entry.id] = {};
  std::memcpy(id, link.id.data(), std::min(link.id.size(), sizeof id - 1));
  copy_to_shared(entry.id, id, sizeof id);
  entry.pid.store(active ? link.pid : 0, std::memory_order_relaxed);
  entry.flags.store(link.flags, std::memory_order_relaxed);
  entry.attached_realtime_ns.store(active ? realtime_ns() : 0, std::memory_order_relaxed);
  entry.notified.store(0, std::memory_order_relaxed);
  entry.coalesced.store(0, std::memory_order_relaxed);
  entry.state.store(
      static_cast<std::uint32_t>(active ? detail::TableEntryState::active : detail::TableEntryState::free),
      std::memory_order_relaxed);
  header.table_version.write_end(region.table_sequence());
}

PublisherCore::PublisherCore(std::string_view topic, const SchemaInfo& schema, std::size_t payload_size,
                             const PublisherOptions& options)
    : state_(std::make_unique<State>(topic, schema, payload_size, options)) {}

PublisherCore::~PublisherCore() = default;

void PublisherCore::shutdown() noexcept {
  state_->close();
}

std::byte* PublisherCore::begin_write() noexcept {
  State& state = *state_;
  SHMSNAP_EXPECTS(!state.shut_down);  // not after shutdown()
  SHMSNAP_EXPECTS(!state.loan_open && "loan() or publish() while a Loan is open: publish or drop the Loan first");
  state.loan_open = true;
  state.loan_slot = (state.current_slot + 1) % state.options.slot_count;
  state.region.slot(state.loan_slot).lock.write_begin(state.region.slot_sequence(state.loan_slot));
  return state.region.payload(state.loan_slot);
}

std::uint64_t PublisherCore::commit_write() noexcept {
  State& state = *state_;
  SHMSNAP_EXPECTS(state.loan_open);
  state.loan_open = false;
  const std::uint64_t seq = ++state.seq;
  const std::int64_t ts = monotonic_ns();
  detail::SlotHeader& slot = state.region.slot(state.loan_slot);
  if (seq == state.fault_seq) {
    raise(SIGKILL);  // test executables only (fault_injection.hpp): die with the slot's sequence odd
  }
  slot.publish_seq.store(seq, std::memory_order_relaxed);
  slot.publish_ts_ns.store(ts, std::memory_order_relaxed);
  slot.lock.write_end(state.region.slot_sequence(state.loan_slot));
  // Pairs with the acquire load of `published` in RegionReader::try_read. The
  // notification below is sent after this store, and the subscriber reads
  // `published` after dequeuing it: a wake-up can never precede its snapshot.
  state.region.header().published.store(detail::pack_published(seq, state.loan_slot), std::memory_order_release);
  state.current_slot = state.loan_slot;
  state.published.fetch_add(1, std::memory_order_relaxed);
  if (state.options.fan_out == FanOut::caller) {
    state.notify_all(NotifyKind::update, seq, ts);
  } else {
    state.pending_ts.store(ts, std::memory_order_relaxed);
    state.pending_seq.store(seq, std::memory_order_release);  // pairs with notifier_loop's wait
    state.pending_seq.notify_one();
  }
  return seq;
}

void PublisherCore::abort_write() noexcept {
  State& state = *state_;
  SHMSNAP_EXPECTS(state.loan_open);
  state.loan_open = false;
  // The payload is half overwritten: mark the slot as belonging to no publish, so
  // a reader that loaded an older published word onto it retries (region.cpp).
  detail::SlotHeader& slot = state.region.slot(state.loan_slot);
  slot.publish_seq.store(0, std::memory_order_relaxed);
  slot.lock.write_end(state.region.slot_sequence(state.loan_slot));
}

std::uint64_t PublisherCore::publish(const void* data, std::size_t size) noexcept {
  SHMSNAP_EXPECTS(size <= state_->payload_bytes);
  SHMSNAP_EXPECTS(!state_->loan_open && "publish() while a Loan is open: publish or drop the Loan first");
  std::byte* slot_payload = begin_write();
  copy_to_shared(slot_payload, data, size);
  return commit_write();
}

PublisherStats PublisherCore::stats() const noexcept {
  const State& state = *state_;
  PublisherStats stats;
  stats.published = state.published.load(std::memory_order_relaxed);
  stats.notified = state.notified.load(std::memory_order_relaxed);
  stats.coalesced = state.coalesced.load(std::memory_order_relaxed);
  stats.send_errors = state.send_errors.load(std::memory_order_relaxed);
  stats.reclaimed = state.reclaimed.load(std::memory_order_relaxed);
  stats.rejected = state.rejected.load(std::memory_order_relaxed);
  stats.dropped_control = state.dropped_control.load(std::memory_order_relaxed);
  stats.subscribers = state.subscriber_count.load(std::memory_order_relaxed);
  return stats;
}

std::uint64_t PublisherCore::epoch() const noexcept {
  return state_->epoch;
}
std::uint64_t PublisherCore::last_seq() const noexcept {
  return state_->seq;
}
const std::string& PublisherCore::topic() const noexcept {
  return state_->names.topic;
}
const std::string& PublisherCore::region_name() const noexcept {
  return state_->region.name();
}

}  // namespace shmsnap
