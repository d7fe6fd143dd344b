// Socket mode's acceptor (socket_acceptor.hpp): accepting connections, the
// credential check, reading one HELLO per connection, admitting it into the
// registry and answering WELCOME (with the sealed region) or REJECTED.
#include "publisher/socket_acceptor.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <utility>
#include <variant>

#include "shmsnap/clock.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/error.hpp"
#include "system/log.hpp"
#include "system/process.hpp"

namespace shmsnap::detail {
namespace {

using namespace std::chrono_literals;

// A connection must say HELLO within this; a silent one is closed after it.
constexpr std::int64_t hello_timeout_ns = 2'000'000'000;
// Connections waiting to say HELLO; more are refused at once (a flood of connects
// costs the publisher a bounded set of descriptors, never its others' service).
constexpr std::size_t max_pending = 32;
// Accepts per wake-up, so a flood cannot keep the control thread in accept().
constexpr int accepts_per_wakeup = 64;
// The longest a HELLO that started arriving may take to arrive whole, and the
// longest an answer may wait for room in the peer's socket buffer.
constexpr auto frame_timeout = 100ms;
// At most one refusal line per this interval (a flood of strangers).
constexpr std::int64_t refusal_log_interval_ns = 1'000'000'000;

}  // namespace

SocketAcceptor::SocketAcceptor(const std::string& directory, const std::string& topic, AdmissionPolicy policy,
                               RegionWriter& region, Registry& registry, ControlLoop& loop)
    : topic_(topic),
      policy_(std::move(policy)),
      region_(region),
      registry_(registry),
      loop_(loop),
      listener_(SocketListener::create(directory, topic)) {
  if (!loop_.watch_descriptor(first_key, listener_.native_handle())) {
    throw Error(Errc::system, "topic '" + topic_ + "': cannot watch its socket " + listener_.path());
  }
}

void SocketAcceptor::on_ready(std::uint64_t key) noexcept {
  if (key == first_key) {
    accept_all();
    return;
  }
  const auto found = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.key == key; });
  if (found != pending_.end()) {
    handle_hello(*found);
    close_pending(key);
  }
}

void SocketAcceptor::accept_all() noexcept {
  for (int round = 0; round < accepts_per_wakeup; ++round) {
    Pending pending;
    try {
      std::optional<UniqueFd> accepted = listener_.accept(0ms);
      if (!accepted) {
        return;
      }
      pending.connection = std::move(*accepted);
      pending.peer = peer_credentials(pending.connection.get());
    } catch (const Error& failure) {
      // EMFILE and the like: the connection stays in the backlog for a later try.
      log().warn("topic '{}': cannot accept a subscriber's connection: {}", topic_, failure.what());
      return;
    }
    if (!policy_.admits(pending.peer, geteuid())) {
      refuse(pending, AttachRejectReason::not_admitted, policy_.refusal(pending.peer));
      continue;
    }
    if (pending_.size() >= max_pending) {
      refuse(pending, AttachRejectReason::bad_request,
             "the publisher has " + std::to_string(max_pending) +
                 " connections waiting to say HELLO already (a flood of connects?); retry");
      continue;
    }
    pending.key = next_key_++;
    pending.deadline_ns = monotonic_ns() + hello_timeout_ns;
    if (!loop_.watch_descriptor(pending.key, pending.connection.get())) {
      refuse(pending, AttachRejectReason::bad_request, "the publisher cannot watch the connection; retry");
      continue;
    }
    pending_.push_back(std::move(pending));
  }
}

void SocketAcceptor::handle_hello(Pending& pending) noexcept {
  std::optional<ReceivedFrame> received;
  try {
    received = receive_attach_frame(pending.connection.get(), frame_timeout);
  } catch (const Error& failure) {
    refuse(pending, AttachRejectReason::bad_request, failure.what());
    return;
  }
  if (!received) {
    return;  // closed before saying anything: nothing to answer
  }
  const auto* hello = std::get_if<AttachHello>(&received->frame);
  if (hello == nullptr) {
    refuse(pending, AttachRejectReason::bad_request, "the first frame on a connection must be a HELLO");
    return;
  }
  SubscriberLink candidate;
  candidate.id = hello->id;
  candidate.pid = pending.peer.pid;
  candidate.start_time = pending.peer.pid > 0 ? process_start_time(pending.peer.pid) : 0;
  candidate.flags = hello->flags & hello_wants_notify;
  if (!received->descriptors.empty()) {
    try {
      check_notify_queue_descriptor(received->descriptors.front().get(), sizeof(NotifyMessage));
      candidate.queue = MessageQueue::adopt(received->descriptors.front().release(),
                                            "notify queue of subscriber '" + hello->id + "'");
    } catch (const Error& failure) {
      refuse(pending, AttachRejectReason::bad_queue, failure.what());
      return;
    }
  }
  // One epoll registration per descriptor: the registry watches it from here on.
  loop_.forget(pending.key);
  const int connection = pending.connection.get();
  candidate.connection = std::move(pending.connection);
  const Admission admission = registry_.admit(std::move(candidate));
  if (admission.kind != NotifyKind::welcome) {
    // NOLINTNEXTLINE(bugprone-use-after-move): admit() leaves a rejected candidate as it was
    pending.connection = std::move(candidate.connection);
    if (admission.reason == RejectReason::table_full) {
      refuse(pending, AttachRejectReason::table_full,
             "topic '" + topic_ + "' has reached its limit of subscribers (max_subscribers); raise it where the " +
                 "publisher is created (--max-subscribers) or stop unused subscribers ('shmsnap list' shows them)");
    } else {
      refuse(pending, AttachRejectReason::id_in_use,
             "subscriber id '" + hello->id + "' on topic '" + topic_ + "' is in use" +
                 (admission.holder > 0 ? " by pid " + std::to_string(admission.holder) : std::string()) +
                 "; pick another id or stop that subscriber");
    }
    return;
  }
  // Registered before the answer, as in named mode: every publish from here on
  // notifies it, so no snapshot falls between the WELCOME and its first read.
  const AttachWelcome welcome{.epoch = region_.epoch(),
                              .region_size = region_.header().region_size,
                              .schema_fingerprint = region_.header().schema_fingerprint};
  const std::array<int, 1> region_descriptor{region_.descriptor()};
  try {
    send_attach_frame(connection, welcome, region_descriptor, frame_timeout);
  } catch (const Error& failure) {
    // The connection is the link's now: its hang-up reaps the registration.
    log().warn("topic '{}': could not send WELCOME to subscriber '{}': {}", topic_, hello->id, failure.what());
  }
}

void SocketAcceptor::refuse(Pending& pending, AttachRejectReason reason, const std::string& why) noexcept {
  refused_.fetch_add(1, std::memory_order_relaxed);
  const std::int64_t now = monotonic_ns();
  if (now - last_refusal_log_ns_ >= refusal_log_interval_ns) {
    last_refusal_log_ns_ = now;
    log().warn("topic '{}': refused a connection ({}, uid {}): {} ({} refused so far)", topic_,
               pid_text(pending.peer.pid), pending.peer.uid, why, refused());
  }
  try {
    send_attach_frame(pending.connection.get(), AttachRejected{.reason = reason, .text = reason_text(why)}, {},
                      frame_timeout);
  } catch (const Error&) {
    // The peer went away or does not read: it learns from the close instead.
  }
  // The caller closes the connection (dropping `pending`), after the loop forgot it.
}

void SocketAcceptor::close_pending(std::uint64_t key) noexcept {
  loop_.forget(key);
  std::erase_if(pending_, [&](const Pending& pending) { return pending.key == key; });
}

void SocketAcceptor::expire_pending() noexcept {
  const std::int64_t now = monotonic_ns();
  std::vector<std::uint64_t> expired;
  for (Pending& pending : pending_) {
    if (now >= pending.deadline_ns) {
      refuse(pending, AttachRejectReason::bad_request, "no HELLO within 2 s of connecting");
      expired.push_back(pending.key);
    }
  }
  for (const std::uint64_t key : expired) {
    close_pending(key);
  }
}

}  // namespace shmsnap::detail
