// The registry of subscribers (registry.hpp): HELLO and BYE, admission, the
// answers, the reaping of dead subscribers (pidfd or the periodic sweep), and the
// table mirrored into the region for tools. Control thread only.

#include "publisher/registry.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <utility>
#include <variant>

#include "shmsnap/clock.hpp"
#include "shmsnap/seqlock.hpp"
#include "system/log.hpp"
#include "system/process.hpp"
#include "transport/unix_socket.hpp"

namespace shmsnap::detail {
namespace {

// A WELCOME may wait for the subscriber to drain an UPDATE that got there first;
// it is retried this long, and at most this many wait at once (the control loop
// retries every millisecond while any wait).
constexpr std::int64_t reply_retry_window_ns = 200'000'000;
constexpr std::size_t max_pending_replies = 64;
// Garbage on the control queue is logged at most this often.
constexpr std::int64_t drop_log_interval_ns = 1'000'000'000;

}  // namespace

Registry::Registry(TopicNames names, std::uint32_t max_subscribers, RegionWriter& region, FanOutNotifier& fan_out,
                   ControlLoop& exits)
    : names_(std::move(names)), max_subscribers_(max_subscribers), region_(region), fan_out_(fan_out), exits_(exits) {}

void Registry::announce_new_epoch(const PreviousOwner& previous) noexcept {
  for (const auto& subscriber : previous.subscribers) {
    try {
      const std::string queue_name = names_.notify_queue(subscriber.id);
      if (!process_alive(subscriber.pid, 0)) {
        // It died with the old publisher: nobody else will remove its queue.
        if (MessageQueue::unlink(queue_name)) {
          reclaimed_.fetch_add(1, std::memory_order_relaxed);
        }
        continue;
      }
      MessageQueue queue = MessageQueue::open(queue_name, MessageQueue::Access::write, true);
      NotifyMessage epoch_message;
      epoch_message.kind = NotifyKind::epoch;
      epoch_message.epoch = region_.epoch();
      // A full queue already holds a wake-up; the subscriber re-reads the region then.
      queue.send(as_bytes(epoch_message), control_priority);
    } catch (const Error& failure) {
      log().debug("topic '{}': previous subscriber '{}' not told of the new epoch: {}", names_.topic, subscriber.id,
                  failure.what());
    }
  }
}

void Registry::handle_control_message(std::span<const std::byte> bytes) noexcept {
  const Parsed<ControlMessage> parsed = parse_control(bytes);
  const std::optional<ControlMessage>& message = parsed.message;
  if (!message) {
    drop_control(parsed.problem);
  } else if (message->kind == ControlKind::hello) {
    handle_hello(*message);
  } else {
    handle_bye(*message);
  }
}

void Registry::handle_hello(const ControlMessage& hello) noexcept {
  const std::string id(id_of(hello));
  if (hello.fingerprint != region_.header().schema_fingerprint) {
    drop_control("HELLO from '" + id + "' for another schema fingerprint");
    return;
  }
  SubscriberLink candidate;
  try {
    // Only names derived from this topic are ever opened: the id was validated
    // against [A-Za-z0-9_.-], so it cannot leave the topic's namespace.
    candidate.queue = MessageQueue::open(names_.notify_queue(id), MessageQueue::Access::write, true);
  } catch (const Error& failure) {
    drop_control("HELLO from '" + id + "' whose queue cannot be opened: " + failure.what());
    return;
  }
  if (hello.epoch != region_.epoch()) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    reply(hello, std::move(candidate.queue), 0, NotifyKind::rejected, RejectReason::wrong_epoch);
    return;
  }
  candidate.start_time = process_start_time(hello.pid);
  if (candidate.start_time == 0) {
    drop_control("HELLO from '" + id + "' naming pid " + std::to_string(hello.pid) + ", which does not exist");
    return;
  }
  // A subscriber creates its own queue: a HELLO naming someone else's pid (to
  // pin a table slot on a process that never exits) fails this check.
  if (candidate.queue.owner() != process_owner(hello.pid)) {
    drop_control("HELLO from '" + id + "' naming pid " + std::to_string(hello.pid) +
                 ", which does not own the queue of that id");
    return;
  }
  candidate.id = id;
  candidate.pid = hello.pid;
  candidate.flags = hello.flags;
  candidate.nonce = hello.nonce;
  const Admission admission = admit(std::move(candidate));
  if (admission.kind == NotifyKind::welcome) {
    // Through the link's queue: were the link gone by the time it is retried, there
    // would be nobody to answer.
    reply(hello, MessageQueue(), admission.key, NotifyKind::welcome);
  } else {
    // NOLINTNEXTLINE(bugprone-use-after-move): admit() leaves a rejected candidate as it was
    reply(hello, std::move(candidate.queue), 0, NotifyKind::rejected, admission.reason, admission.holder);
  }
}

Admission Registry::admit(SubscriberLink&& candidate) noexcept {
  Admission admission;
  const auto same_id =
      std::find_if(links_.begin(), links_.end(), [&](const auto& link) { return link->id == candidate.id; });
  if (same_id != links_.end()) {
    SubscriberLink& holder = **same_id;
    const bool same_process = holder.pid == candidate.pid && holder.start_time == candidate.start_time;
    if (same_process && !holder.connection.valid() && !candidate.connection.valid()) {
      // The same process again (a retried attach, or a new Subscriber after one
      // whose BYE was lost): its queue may be new, so notify the one it names now.
      fan_out_.retire(holder.table_index);  // before the old descriptor is closed below
      holder.queue = std::move(candidate.queue);
      holder.nonce = candidate.nonce;
      holder.flags = candidate.flags;
      fan_out_.add(holder.table_index, holder.queue.native_handle(), (holder.flags & hello_wants_notify) != 0);
      admission.kind = NotifyKind::welcome;
      admission.key = holder.key;
      return admission;
    }
    // A connected holder is alive until its connection ends (its pid may be 0).
    if (!(same_process && holder.pid != 0) &&
        (holder.connection.valid() || process_alive(holder.pid, holder.start_time))) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      admission.reason = RejectReason::id_in_use;
      admission.holder = holder.pid;
      return admission;
    }
    reap(holder.key, "replaced by a new holder of its id");
  }
  std::vector<bool> used(max_subscribers_, false);
  for (const auto& link : links_) {
    used[link->table_index] = true;
  }
  const auto free_slot = std::find(used.begin(), used.end(), false);
  if (free_slot == used.end()) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    log().warn("topic '{}': refused subscriber '{}' (pid {}): max_subscribers = {} reached", names_.topic, candidate.id,
               candidate.pid, max_subscribers_);
    admission.reason = RejectReason::table_full;
    return admission;
  }
  auto link = std::make_unique<SubscriberLink>(std::move(candidate));
  link->key = next_key_++;
  link->table_index = static_cast<std::uint32_t>(free_slot - used.begin());
  if (link->connection.valid()) {
    exits_.watch_descriptor(link->key, link->connection.get());
  } else {
    exits_.watch_exit(link->key, link->pid);
  }
  write_table_entry(*link, true);
  // Registered before the answer: every publish from here on notifies it, and
  // after WELCOME it reads the region, so no snapshot falls in between.
  fan_out_.add(link->table_index, link->queue.native_handle(), (link->flags & hello_wants_notify) != 0);
  log().info("topic '{}': subscriber '{}' ({}) attached", names_.topic, link->id, pid_text(link->pid));
  admission.kind = NotifyKind::welcome;
  admission.key = link->key;
  links_.push_back(std::move(link));
  subscriber_count_.store(links_.size(), std::memory_order_release);
  return admission;
}

void Registry::handle_bye(const ControlMessage& bye) noexcept {
  // The nonce proves the BYE comes from the subscriber: its id and pid are public.
  const auto leaving = std::find_if(links_.begin(), links_.end(), [&](const auto& link) {
    return link->id == id_of(bye) && link->pid == bye.pid && link->nonce == bye.nonce;
  });
  if (leaving == links_.end()) {
    drop_control("BYE for '" + std::string(id_of(bye)) + "' (pid " + std::to_string(bye.pid) +
                 ") that matches no registration");
    return;
  }
  const std::unique_ptr<SubscriberLink> link = unregister((*leaving)->key);
  log().info("topic '{}': subscriber '{}' (pid {}) left", names_.topic, link->id, link->pid);
}

std::unique_ptr<SubscriberLink> Registry::unregister(std::uint64_t key) noexcept {
  const auto found = std::find_if(links_.begin(), links_.end(), [&](const auto& link) { return link->key == key; });
  if (found == links_.end()) {
    return nullptr;
  }
  std::unique_ptr<SubscriberLink> link = std::move(*found);
  links_.erase(found);
  subscriber_count_.store(links_.size(), std::memory_order_release);
  fan_out_.retire(link->table_index);  // from here its queue may be closed
  write_table_entry(*link, false);
  exits_.forget(link->key);
  return link;
}

void Registry::reap(std::uint64_t key, const char* why) noexcept {
  if (std::none_of(links_.begin(), links_.end(), [&](const auto& link) { return link->key == key; })) {
    return;
  }
  // Counted before the subscriber count drops (a release store in unregister), so
  // stats() never shows it gone but not reclaimed.
  reclaimed_.fetch_add(1, std::memory_order_relaxed);
  const std::unique_ptr<SubscriberLink> dead = unregister(key);
  // The subscriber can no longer unlink its own queue: we do, so nothing leaks;
  // but only if the name is still its queue, not a successor's with the same id.
  // (A socket-mode queue has no name: its subscriber removed it after creating it.)
  if (!dead->connection.valid()) {
    MessageQueue::unlink_if_same(names_.notify_queue(dead->id), dead->queue.inode());
  }
  log().info("topic '{}': subscriber '{}' ({}) {}; its queue and table slot are reclaimed", names_.topic, dead->id,
             pid_text(dead->pid), why);
}

void Registry::on_watch_fired(std::uint64_t key) noexcept {
  const auto found = std::find_if(links_.begin(), links_.end(), [&](const auto& link) { return link->key == key; });
  if (found == links_.end()) {
    return;
  }
  if (!(*found)->connection.valid()) {
    reap(key, "exited");
    return;
  }
  // Readable for a BYE as for an EOF or garbage: either way the subscriber is done,
  // but only a BYE is a clean leave (the others count as reclaimed).
  bool said_bye = false;
  try {
    const std::optional<ReceivedFrame> frame =
        receive_attach_frame((*found)->connection.get(), std::chrono::milliseconds(0));
    said_bye = frame && std::holds_alternative<AttachBye>(frame->frame);
  } catch (const Error&) {
    // Garbage, or a frame cut short: not a BYE.
  }
  if (!said_bye) {
    reap(key, "closed its connection without BYE (exited?)");
    return;
  }
  const std::unique_ptr<SubscriberLink> link = unregister(key);
  log().info("topic '{}': subscriber '{}' ({}) left", names_.topic, link->id, pid_text(link->pid));
}

void Registry::sweep_and_mirror() noexcept {
  // Without a pidfd (old kernels) this sweep is the only death detector.
  std::vector<std::uint64_t> dead;
  for (const auto& link : links_) {
    // A connected subscriber is watched through its connection instead.
    if (!link->connection.valid() && !process_alive(link->pid, link->start_time)) {
      dead.push_back(link->key);
    }
  }
  for (const std::uint64_t key : dead) {
    reap(key, "exited");
  }
  for (const auto& link : links_) {
    SubscriberEntry& entry = region_.entry(link->table_index);
    entry.notified.store(fan_out_.notified(link->table_index), std::memory_order_relaxed);
    entry.coalesced.store(fan_out_.coalesced(link->table_index), std::memory_order_relaxed);
  }
}

void Registry::write_table_entry(const SubscriberLink& link, bool active) noexcept {
  RegionHeader& header = region_.header();
  SubscriberEntry& entry = region_.entry(link.table_index);
  header.table_version.write_begin(region_.table_sequence());
  char id[sizeof entry.id] = {};
  std::memcpy(id, link.id.data(), std::min(link.id.size(), sizeof id - 1));
  copy_to_shared(entry.id, id, sizeof id);
  entry.pid.store(active ? link.pid : 0, std::memory_order_relaxed);
  const std::uint32_t connected = link.connection.valid() ? table_connected : 0U;
  entry.flags.store((link.flags & ~table_connected) | connected, std::memory_order_relaxed);
  entry.attached_realtime_ns.store(active ? realtime_ns() : 0, std::memory_order_relaxed);
  entry.notified.store(0, std::memory_order_relaxed);
  entry.coalesced.store(0, std::memory_order_relaxed);
  entry.state.store(static_cast<std::uint32_t>(active ? TableEntryState::active : TableEntryState::free),
                    std::memory_order_relaxed);
  header.table_version.write_end(region_.table_sequence());
}

void Registry::drop_control(const std::string& why) noexcept {
  const std::uint64_t count = dropped_control_.fetch_add(1, std::memory_order_relaxed) + 1;
  const std::int64_t now = monotonic_ns();
  if (now - last_drop_log_ns_ >= drop_log_interval_ns) {
    last_drop_log_ns_ = now;
    log().warn("topic '{}': dropped a control message ({}); {} dropped so far", names_.topic, why, count);
  }
}

void Registry::reply(const ControlMessage& hello, MessageQueue queue, std::uint64_t link_key, NotifyKind kind,
                     RejectReason reason, pid_t holder) noexcept {
  PendingReply pending;
  pending.link_key = link_key;
  pending.queue = std::move(queue);
  pending.message.kind = kind;
  pending.message.detail = static_cast<std::uint32_t>(reason);
  pending.message.holder_pid = holder;
  pending.message.limit = reason == RejectReason::table_full ? max_subscribers_ : 0;
  pending.message.epoch = region_.epoch();
  pending.message.nonce = hello.nonce;
  pending.deadline_ns = monotonic_ns() + reply_retry_window_ns;
  if (try_send_reply(pending)) {
    return;
  }
  if (pending_replies_.size() >= max_pending_replies) {
    drop_control("too many answers waiting for full queues; dropped the one to '" + std::string(id_of(hello)) + "'");
    return;
  }
  pending_replies_.push_back(std::move(pending));
}

bool Registry::try_send_reply(PendingReply& pending) noexcept {
  QueueStatus status = QueueStatus::error;
  if (pending.link_key != 0) {
    const auto link = std::find_if(links_.begin(), links_.end(),
                                   [&](const auto& candidate) { return candidate->key == pending.link_key; });
    if (link == links_.end()) {
      return true;  // it left or died meanwhile: nothing to answer
    }
    status = (*link)->queue.send(as_bytes(pending.message), control_priority);
  } else {
    status = pending.queue.send(as_bytes(pending.message), control_priority);
  }
  return status != QueueStatus::full;
}

void Registry::retry_pending_replies() noexcept {
  const std::int64_t now = monotonic_ns();
  std::erase_if(pending_replies_, [&](PendingReply& pending) {
    if (try_send_reply(pending)) {
      return true;
    }
    if (now >= pending.deadline_ns) {
      log().warn("topic '{}': gave up answering a HELLO: its queue stayed full (subscriber stopped?)", names_.topic);
      return true;
    }
    return false;
  });
}

}  // namespace shmsnap::detail
