// Fan-out: one notification to every subscriber, sent by publish() itself or by
// the notifier thread (FanOut), never blocking and never taking a lock; and the
// EPOCH notice to a dead predecessor's subscribers at create().

#include "publisher/publisher_state.hpp"
#include "system/log.hpp"
#include "system/process.hpp"

namespace shmsnap {
namespace {

using detail::log;

}  // namespace

void UntypedPublisher::State::notify_all(NotifyKind kind, std::uint64_t seq_value, std::int64_t ts) noexcept {
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

void UntypedPublisher::State::notifier_loop() noexcept {
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

void UntypedPublisher::State::announce_to_previous(const detail::PreviousOwner& previous) noexcept {
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

}  // namespace shmsnap
