// The attach path over the topic's names (named_attach.hpp): open and check the
// region, create this subscriber's notify queue (reclaiming a dead holder's),
// HELLO/WELCOME through the publisher's control queue, BYE, and the cheap look for
// a successor while detached.
#include "subscriber/named_attach.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <span>
#include <thread>
#include <utility>

#include "shmsnap/clock.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/detail/queue_holders.hpp"
#include "system/log.hpp"
#include "system/process.hpp"

namespace shmsnap::detail {
namespace {

// A holder of our id may be attaching right now (its HELLO not yet in the
// publisher's table): look this long before calling its queue stale.
constexpr auto holder_grace = std::chrono::milliseconds(300);
// Rounds of create / look / reclaim before giving up on the queue's name.
constexpr int max_queue_rounds = 50;
// Notify queue mode bits refused: readable by others, or writable by other users.
constexpr mode_t queue_mode_refused = 0044 | 0002;
// Control queue mode bits refused: a reader of the control queue learns each HELLO's
// nonce and could answer it in the publisher's name.
constexpr mode_t control_mode_refused = 0044;

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::uint64_t random_nonce() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uint64_t value = 0;
  while (value == 0) {  // 0 means "no registration"
    value = generator();
  }
  return value;
}

}  // namespace

NamedAttach::NamedAttach(TopicNames names, std::string id, const SubscriberOptions& options)
    : names_(std::move(names)),
      id_(std::move(id)),
      queue_mode_(options.queue_mode),
      trusted_owners_(options.trusted_owners),
      wants_notify_(options.mode != WaitMode::spin) {
  // Group write is how a publisher of another user reaches the queue; anything more
  // lets others fill it, or read it and take the WELCOME's nonce.
  if ((queue_mode_ & queue_mode_refused) != 0) {
    throw Error(Errc::invalid_argument, "subscriber '" + id_ + "' on topic '" + names_.topic + "': queue mode " +
                                            octal(queue_mode_) +
                                            " lets users other than the publisher use the notify queue (read its "
                                            "messages, or write it without being in the topic's group); use 0620 "
                                            "(the default) or 0600");
  }
}

NamedAttach::~NamedAttach() = default;

RegionReader NamedAttach::open_region(MessageQueue& /*notify*/, std::int64_t /*deadline_ns*/) {
  RegionReader candidate = RegionReader::open(names_.region(), TrustedOwners{.also = trusted_owners_});
  if (candidate.closed() || !candidate.publisher_alive()) {
    throw Error(Errc::not_found, "topic '" + names_.topic + "' has no live publisher (pid " +
                                     std::to_string(candidate.publisher_pid()) +
                                     (candidate.closed() ? " shut it down" : " is gone") +
                                     "); start one, or remove leftovers with 'shmsnap clean'");
  }
  return candidate;
}

int NamedAttach::register_with(const RegionReader& region, MessageQueue& notify, std::int64_t deadline_ns) {
  create_notify_queue(region, notify, deadline_ns);
  // Opened before the HELLO: the pid is the one of the region just validated.
  const int pidfd = open_pidfd(region.publisher_pid());
  try {
    hello(region, notify, deadline_ns);
  } catch (...) {
    if (pidfd >= 0) {
      ::close(pidfd);
    }
    control_.close();
    throw;
  }
  return pidfd;
}

void NamedAttach::unregister(const RegionReader* region, bool say_bye) noexcept {
  if (say_bye && control_.is_open() && region != nullptr && region->publisher_alive() && !region->closed()) {
    const ControlMessage bye =
        make_control(ControlKind::bye, id_, getpid(), region->epoch(), region->header().schema_fingerprint, 0, nonce_);
    control_.send(as_bytes(bye), control_priority);
  }
  control_.close();
}

bool NamedAttach::successor_ready(ino_t inode, std::uint64_t epoch) noexcept {
  try {
    // Cheap look first: the same dead region, or none at all, is the common case.
    RegionReader candidate = RegionReader::open(names_.region(), TrustedOwners{.also = trusted_owners_});
    if ((candidate.inode() == inode && candidate.epoch() == epoch) || candidate.closed() ||
        !candidate.publisher_alive()) {
      return false;
    }
  } catch (const Error& failure) {
    // A region another user created under the name (owner not trusted, or a mode
    // that lets others write it) is not our publisher: keep waiting for the real
    // one, and say once who is in the way.
    if (failure.code() == Errc::permission_denied && reattach_problem_ != failure.what()) {
      reattach_problem_ = failure.what();
      log().warn("subscriber '{}' on topic '{}': still waiting for a publisher: {}", id_, names_.topic,
                 reattach_problem_);
    }
    return false;
  }
  reattach_problem_.clear();
  return true;
}

void NamedAttach::release(MessageQueue& notify) noexcept {
  if (notify.is_open()) {
    // Ours alone, so nothing is left behind; but never a successor's queue of the same name.
    MessageQueue::unlink_if_same(names_.notify_queue(id_), notify.inode());
    notify.close();
  }
}

Error NamedAttach::busy_id(pid_t holder) const {
  return Error(Errc::busy, "subscriber id '" + id_ + "' on topic '" + names_.topic + "' is in use by pid " +
                               std::to_string(holder) + "; pick another id or stop that subscriber");
}

Error NamedAttach::squatted_queue(const std::string& queue_name, const std::vector<pid_t>& holders, int err) const {
  const std::optional<uid_t> queue_owner = MessageQueue::owner_of(queue_name);
  std::string held = "no process this user may inspect holds it open";
  if (!holders.empty()) {
    held = "held open by pid";
    for (const pid_t holder : holders) {
      held += " " + std::to_string(holder);
    }
  }
  return Error(Errc::permission_denied,
               "subscriber id '" + id_ + "' on topic '" + names_.topic + "': its queue /dev/mqueue" + queue_name +
                   " already exists, owned by " +
                   (queue_owner ? "user " + user_name(*queue_owner) : std::string("an unknown user")) + " (" + held +
                   "), and this user (uid " + std::to_string(geteuid()) + ") may not remove it (" + std::strerror(err) +
                   "); another user may have created the name to block this subscriber. Remove it as that "
                   "user or root (shmsnap mq unlink " +
                   queue_name + ") or pick another id",
               err);
}

void NamedAttach::create_notify_queue(const RegionReader& candidate, MessageQueue& notify, std::int64_t deadline_ns) {
  const std::string queue_name = names_.notify_queue(id_);
  if (notify.is_open()) {
    if (MessageQueue::inode_of(queue_name) == notify.inode()) {
      return;  // re-attaching: we keep our queue (and our id) across publishers
    }
    // Someone removed (or replaced) our queue while we were away: make a new one.
    log().warn("subscriber '{}': its queue {} was removed or replaced; creating it again", id_, queue_name);
    notify.close();
  }
  MessageQueue::CreateOptions queue_options;
  queue_options.max_messages = 1;  // conflation: one pending wake-up is all a latest-value reader needs
  queue_options.message_size = sizeof(NotifyMessage);
  queue_options.mode = queue_mode_;
  queue_options.access = MessageQueue::Access::read;
  const auto grace_end = std::chrono::steady_clock::now() + holder_grace;
  // Bounded twice: by the caller's deadline and by a number of rounds, so that a
  // name that keeps coming back (another user recreating it) can never hold us.
  for (int round = 0; round < max_queue_rounds; ++round) {
    try {
      notify = MessageQueue::create(queue_name, queue_options);
      // The publisher writes our queue through its group bits: give the queue the
      // region's group (we may be a member only through a supplementary group).
      if (candidate.group() != getegid() && !notify.set_group(candidate.group())) {
        log().warn(
            "subscriber '{}': cannot give queue {} to the topic's group {}; a publisher of another "
            "user may be unable to notify it",
            id_, queue_name, candidate.group());
      }
      return;
    } catch (const Error& failure) {
      if (failure.code() != Errc::busy) {
        throw;
      }
    }
    // Who holds the queue open is the proof of ownership: a subscriber keeps its
    // queue open for its whole life, also while its publisher is away.
    const QueueHolders holders = scan_queue_holders();
    for (const pid_t holder : holders.of(queue_name)) {
      // The publisher holds it too (to write); any other live holder is its reader.
      if (holder != candidate.publisher_pid() && process_alive(holder, 0)) {
        throw busy_id(holder);
      }
    }
    for (const SubscriberRow& row : candidate.subscribers()) {
      if (row.id == id_ && row.alive) {
        throw busy_id(row.pid);
      }
    }
    // Where /proc could not show every possible holder (another user's processes),
    // give an attaching holder the grace to appear in the publisher's table.
    if (holders.conclusive_for(geteuid()) || std::chrono::steady_clock::now() >= grace_end) {
      if (!MessageQueue::unlink(queue_name)) {
        const int err = errno;
        if (err != ENOENT) {
          // Another user's queue in the sticky /dev/mqueue: retrying cannot help.
          throw squatted_queue(queue_name, holders.of(queue_name), err);
        }
      }
      log().warn("subscriber '{}': reclaimed the stale queue {} of a dead holder", id_, queue_name);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (monotonic_ns() >= deadline_ns) {
      break;
    }
  }
  throw Error(Errc::timed_out, "subscriber id '" + id_ + "' on topic '" + names_.topic + "': its queue /dev/mqueue" +
                                   queue_name +
                                   " still exists at the attach deadline (a holder this user cannot see may "
                                   "be attaching, or another process keeps creating it); see who holds it with "
                                   "'shmsnap mq stat " +
                                   queue_name + "', or pick another id");
}

std::optional<std::uint64_t> NamedAttach::current_epoch() const noexcept {
  try {
    return RegionReader::open(names_.region(), TrustedOwners{.also = trusted_owners_}).epoch();
  } catch (const Error&) {
    return std::nullopt;
  }
}

Error NamedAttach::epoch_changed(const RegionReader& candidate, std::uint64_t now_epoch) const {
  return Error(Errc::protocol, "topic '" + names_.topic + "': the epoch changed from " +
                                   std::to_string(candidate.epoch()) + " to " + std::to_string(now_epoch) +
                                   " while attaching (publisher pid " + std::to_string(candidate.publisher_pid()) +
                                   " restarted or was replaced); retry to attach to the new one");
}

void NamedAttach::hello(const RegionReader& candidate, MessageQueue& notify, std::int64_t deadline) {
  control_ = MessageQueue::open(names_.control_queue(), MessageQueue::Access::write, true);
  // Checked on the open descriptor: the queue we will write is the one we looked at.
  if (const uid_t queue_owner = control_.owner(); queue_owner != candidate.owner()) {
    throw Error(Errc::permission_denied, "topic '" + names_.topic + "': its control queue /dev/mqueue" +
                                             names_.control_queue() + " is owned by user " + user_name(queue_owner) +
                                             ", not by the region's owner " + user_name(candidate.owner()) +
                                             ": another user may have created the name; remove it (shmsnap mq unlink " +
                                             names_.control_queue() + ") and restart the publisher");
  }
  if (const mode_t queue_mode = control_.mode(); (queue_mode & control_mode_refused) != 0) {
    throw Error(Errc::permission_denied,
                "topic '" + names_.topic + "': its control queue /dev/mqueue" + names_.control_queue() + " has mode " +
                    octal(queue_mode) +
                    ": users other than the publisher may read it and answer this subscriber in the publisher's "
                    "name, so it is refused. A publisher creates it 0620; 'chmod go-r /dev/mqueue" +
                    names_.control_queue() + "' or restart the publisher");
  }
  // Leftovers from a previous publisher would only delay the WELCOME.
  std::array<std::byte, sizeof(NotifyMessage)> buffer{};
  while (notify.receive(buffer).status == QueueStatus::ok) {
  }
  const std::uint32_t flags = wants_notify_ ? hello_wants_notify : 0U;
  nonce_ = random_nonce();
  const ControlMessage hello = make_control(ControlKind::hello, id_, getpid(), candidate.epoch(),
                                            candidate.header().schema_fingerprint, flags, nonce_);
  if (control_.send_for(as_bytes(hello), control_priority,
                        std::chrono::nanoseconds(std::max<std::int64_t>(0, deadline - monotonic_ns()))) !=
      QueueStatus::ok) {
    throw Error(Errc::timed_out, "topic '" + names_.topic + "': the control queue of publisher pid " +
                                     std::to_string(candidate.publisher_pid()) +
                                     " stayed full; it is not servicing subscribers (stopped or overloaded?)");
  }
  while (true) {
    const std::int64_t left = deadline - monotonic_ns();
    if (left <= 0) {
      // A publisher that restarted while we attached never answers the old epoch's
      // HELLO: say that, not "stopped or overloaded".
      if (const std::optional<std::uint64_t> now_epoch = current_epoch();
          now_epoch && *now_epoch != candidate.epoch()) {
        throw epoch_changed(candidate, *now_epoch);
      }
      throw Error(Errc::timed_out, "topic '" + names_.topic + "': publisher pid " +
                                       std::to_string(candidate.publisher_pid()) +
                                       " did not answer HELLO in time (is it stopped or overloaded?)");
    }
    const Received received =
        notify.receive_for(buffer, std::chrono::nanoseconds(std::min<std::int64_t>(left, 20'000'000)));
    if (received.status != QueueStatus::ok) {
      if (!candidate.publisher_alive()) {
        throw Error(Errc::not_found, "topic '" + names_.topic + "': publisher pid " +
                                         std::to_string(candidate.publisher_pid()) + " exited during attach");
      }
      continue;
    }
    const auto message = parse_notify(std::span(buffer.data(), received.size)).message;
    // Only an answer echoing our nonce counts: anyone in the topic's group may
    // write to our queue, but only the publisher read the HELLO.
    if (!message || message->kind == NotifyKind::update || message->nonce != nonce_) {
      continue;
    }
    if (message->epoch != candidate.epoch()) {
      // A successor read our HELLO for the region we had opened: not a timeout.
      if (message->kind == NotifyKind::rejected) {
        throw epoch_changed(candidate, message->epoch);
      }
      continue;
    }
    if (message->kind == NotifyKind::welcome) {
      return;
    }
    if (message->kind == NotifyKind::rejected) {
      switch (static_cast<RejectReason>(message->detail)) {
        case RejectReason::table_full:
          throw Error(Errc::limit_exceeded,
                      "topic '" + names_.topic + "' has reached its limit of " + std::to_string(message->limit) +
                          " subscribers (max_subscribers); raise it where the publisher is created "
                          "(PublisherOptions::max_subscribers, shmsnap-publisher --max-subscribers) or stop unused "
                          "subscribers ('shmsnap list' shows them)");
        case RejectReason::id_in_use:
          throw Error(Errc::busy, "subscriber id '" + id_ + "' on topic '" + names_.topic + "' is in use by pid " +
                                      std::to_string(message->holder_pid) +
                                      "; pick another id or stop that subscriber");
        default:
          throw Error(Errc::protocol, "topic '" + names_.topic + "': publisher pid " +
                                          std::to_string(candidate.publisher_pid()) + " refused HELLO for epoch " +
                                          std::to_string(candidate.epoch()) +
                                          " (the epoch changed: the publisher restarted); retry");
      }
    }
  }
}

}  // namespace shmsnap::detail
