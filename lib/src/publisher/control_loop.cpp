// The control thread's loop: the control queue (HELLO/BYE), subscribers' pidfds,
// the heartbeat period, and answers that found a full queue. Control thread only.

#include <sys/epoll.h>

#include <algorithm>
#include <array>

#include "publisher/publisher_state.hpp"
#include "shmsnap/clock.hpp"
#include "system/log.hpp"

namespace shmsnap {
namespace {

using detail::log;

// A WELCOME may wait for the subscriber to drain an UPDATE that got there first;
// it is retried this long, at this period, and at most this many wait at once.
constexpr std::int64_t reply_retry_window_ns = 200'000'000;
constexpr int reply_retry_period_ms = 1;
constexpr std::size_t max_pending_replies = 64;
// Garbage on the control queue is logged at most this often.
constexpr std::int64_t drop_log_interval_ns = 1'000'000'000;

}  // namespace

void UntypedPublisher::State::control_loop() noexcept {
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

void UntypedPublisher::State::drain_control() noexcept {
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

void UntypedPublisher::State::drop_control(const std::string& why) noexcept {
  const std::uint64_t count = dropped_control.fetch_add(1, std::memory_order_relaxed) + 1;
  const std::int64_t now = monotonic_ns();
  if (now - last_drop_log_ns >= drop_log_interval_ns) {
    last_drop_log_ns = now;
    log().warn("topic '{}': dropped a control message ({}); {} dropped so far", names.topic, why, count);
  }
}

void UntypedPublisher::State::reply(const ControlMessage& hello, MessageQueue queue, std::uint64_t link_key,
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

bool UntypedPublisher::State::try_send_reply(PendingReply& pending) noexcept {
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

void UntypedPublisher::State::retry_pending_replies() noexcept {
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

}  // namespace shmsnap
