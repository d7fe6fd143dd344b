// The registry of subscribers: HELLO and BYE, the reaping of dead subscribers
// (pidfd or the periodic sweep), and the table mirrored into the region for tools.
// Control thread only.

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "publisher/publisher_state.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/seqlock.hpp"
#include "system/log.hpp"
#include "system/process.hpp"

namespace shmsnap {
namespace {

using detail::log;

}  // namespace

void UntypedPublisher::State::handle_hello(const ControlMessage& hello) noexcept {
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

void UntypedPublisher::State::handle_bye(const ControlMessage& bye) noexcept {
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

std::unique_ptr<SubscriberLink> UntypedPublisher::State::unregister(std::uint64_t key) noexcept {
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

void UntypedPublisher::State::reap(std::uint64_t key, const char* why) noexcept {
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

void UntypedPublisher::State::sweep_and_mirror() noexcept {
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

void UntypedPublisher::State::write_table_entry(const SubscriberLink& link, bool active) noexcept {
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

}  // namespace shmsnap
