// The fan-out (fan_out_notifier.hpp): one notification to every subscriber, sent
// by the publishing thread or the notifier thread, never blocking and never taking
// a lock.

#include "publisher/fan_out_notifier.hpp"

namespace shmsnap::detail {

FanOutNotifier::FanOutNotifier(std::uint32_t capacity, FanOut mode, std::uint64_t epoch)
    : table_(capacity), mode_(mode), epoch_(epoch) {}

FanOutNotifier::~FanOutNotifier() {
  stop();
}

void FanOutNotifier::start() {
  if (mode_ == FanOut::notifier_thread) {
    notifier_ = std::thread([this] { notifier_loop(); });
  }
}

void FanOutNotifier::stop() noexcept {
  stopping_.store(true, std::memory_order_release);
  if (notifier_.joinable()) {
    // atomic::wait returns only on a changed value: bump it (never sent, see notifier_loop).
    pending_seq_.fetch_add(1, std::memory_order_release);
    pending_seq_.notify_all();
    notifier_.join();
  }
}

void FanOutNotifier::notify_all(NotifyKind kind, std::uint64_t seq, std::int64_t ts) noexcept {
  NotifyMessage message;
  message.kind = kind;
  message.seq = seq;
  message.publish_ts_ns = ts;
  message.epoch = epoch_;
  const unsigned priority = kind == NotifyKind::update ? update_priority : control_priority;
  const FanOutTable::PassResult pass = table_.fan_out(as_bytes(message), priority, kind == NotifyKind::update);
  notified_.fetch_add(pass.sent, std::memory_order_relaxed);
  coalesced_.fetch_add(pass.folded, std::memory_order_relaxed);
  send_errors_.fetch_add(pass.failed, std::memory_order_relaxed);
}

void FanOutNotifier::notifier_loop() noexcept {
  std::uint64_t last_sent = 0;
  while (!stopping_.load(std::memory_order_acquire)) {
    pending_seq_.wait(last_sent, std::memory_order_acquire);  // pairs with notify_update's release store
    if (stopping_.load(std::memory_order_acquire)) {
      return;
    }
    const std::uint64_t newest = pending_seq_.load(std::memory_order_acquire);
    if (newest != last_sent) {
      notify_all(NotifyKind::update, newest, pending_ts_.load(std::memory_order_relaxed));
      last_sent = newest;
    }
  }
}

}  // namespace shmsnap::detail
