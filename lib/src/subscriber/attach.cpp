// Attaching to a topic: open and check the region and its schema, create this
// subscriber's notify queue (reclaiming a dead holder's), HELLO/WELCOME with the
// publisher, and the descriptors behind fd(); detaching and releasing them.

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include "shmsnap/clock.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/detail/queue_holders.hpp"
#include "subscriber/subscriber_state.hpp"
#include "system/log.hpp"
#include "system/process.hpp"

namespace shmsnap {
namespace {

using detail::log;

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

std::string next_auto_id() {
  static std::atomic<unsigned> counter{0};
  return "sub-" + std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

}  // namespace

UntypedSubscriber::State::State(UntypedSubscriber& core, std::string_view topic, const SchemaInfo* reader_schema,
                                const SubscriberOptions& opts)
    : owner(core),
      names(opts.prefix, topic),
      options(opts),
      schema(reader_schema),
      id(opts.id.empty() ? next_auto_id() : opts.id) {
  validate_name("subscriber id", id, max_subscriber_id_length);
  // Group write is how a publisher of another user reaches the queue; anything more
  // lets others fill it, or read it and take the WELCOME's nonce.
  if ((options.queue_mode & queue_mode_refused) != 0) {
    throw Error(Errc::invalid_argument, "subscriber '" + id + "' on topic '" + names.topic + "': queue mode " +
                                            octal(options.queue_mode) +
                                            " lets users other than the publisher use the notify queue (read its "
                                            "messages, or write it without being in the topic's group); use 0620 "
                                            "(the default) or 0600");
  }
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (epoll_fd < 0 || timer_fd < 0) {
    throw Error(Errc::system, "subscriber '" + id + "': cannot create its epoll/timerfd descriptors");
  }
  if (schema != nullptr) {
    local.assign(schema->size, std::byte{0});
  }
  try {
    attach(monotonic_deadline(options.attach_timeout));
  } catch (...) {
    detach(false);
    release();
    throw;
  }
  // A late joiner starts with the current state, before any new publish (bounded
  // like the attach itself, against a writer that laps every read).
  deliver_newest(monotonic_deadline(options.attach_timeout));
}

UntypedSubscriber::State::~State() {
  detach(true);
  release();
}

void UntypedSubscriber::State::release() noexcept {
  if (notify.is_open()) {
    // Ours alone, so nothing is left behind; but never a successor's queue of the same name.
    MessageQueue::unlink_if_same(names.notify_queue(id), notify.inode());
    notify.close();
  }
  ::close(epoll_fd);
  ::close(timer_fd);
}

void UntypedSubscriber::State::check_schema(const RegionReader& candidate) const {
  if (schema == nullptr || candidate.header().schema_fingerprint == schema->fingerprint) {
    if (schema != nullptr && candidate.payload_size() < schema->size) {
      throw Error(Errc::schema_mismatch, "topic '" + names.topic + "': region payload is smaller than " +
                                             std::string(schema->name) + " with the same fingerprint");
    }
    return;
  }
  const std::string reason = schema_incompatibility(schema->descriptor, candidate.descriptor());
  if (!reason.empty()) {
    throw Error(Errc::schema_mismatch, "topic '" + names.topic + "': this subscriber reads " +
                                           std::string(schema->name) + " v" + std::to_string(schema->version) +
                                           " but the publisher writes " + std::string(candidate.schema_name()) + " v" +
                                           std::to_string(candidate.header().schema_version) + ": " + reason);
  }
  if (candidate.payload_size() < schema->size) {
    throw Error(Errc::schema_mismatch, "topic '" + names.topic + "': the publisher's snapshot (" +
                                           std::to_string(candidate.payload_size()) + " bytes) is smaller than " +
                                           std::string(schema->name) + " (" + std::to_string(schema->size) + ")");
  }
}

Error UntypedSubscriber::State::busy_id(pid_t holder) const {
  return Error(Errc::busy, "subscriber id '" + id + "' on topic '" + names.topic + "' is in use by pid " +
                               std::to_string(holder) + "; pick another id or stop that subscriber");
}

Error UntypedSubscriber::State::squatted_queue(const std::string& queue_name, const std::vector<pid_t>& holders,
                                               int err) const {
  const std::optional<uid_t> queue_owner = MessageQueue::owner_of(queue_name);
  std::string held = "no process this user may inspect holds it open";
  if (!holders.empty()) {
    held = "held open by pid";
    for (const pid_t holder : holders) {
      held += " " + std::to_string(holder);
    }
  }
  return Error(Errc::permission_denied,
               "subscriber id '" + id + "' on topic '" + names.topic + "': its queue /dev/mqueue" + queue_name +
                   " already exists, owned by " +
                   (queue_owner ? "user " + user_name(*queue_owner) : std::string("an unknown user")) + " (" + held +
                   "), and this user (uid " + std::to_string(geteuid()) + ") may not remove it (" + std::strerror(err) +
                   "); another user may have created the name to block this subscriber. Remove it as that "
                   "user or root (shmsnap mq unlink " +
                   queue_name + ") or pick another id",
               err);
}

void UntypedSubscriber::State::create_notify_queue(const RegionReader& candidate, std::int64_t deadline_ns) {
  if (notify.is_open()) {
    return;  // re-attaching: we keep our queue (and our id) across publishers
  }
  MessageQueue::CreateOptions queue_options;
  queue_options.max_messages = 1;  // conflation: one pending wake-up is all a latest-value reader needs
  queue_options.message_size = sizeof(NotifyMessage);
  queue_options.mode = options.queue_mode;
  queue_options.access = MessageQueue::Access::read;
  const std::string queue_name = names.notify_queue(id);
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
            id, queue_name, candidate.group());
      }
      return;
    } catch (const Error& failure) {
      if (failure.code() != Errc::busy) {
        throw;
      }
    }
    // Who holds the queue open is the proof of ownership: a subscriber keeps its
    // queue open for its whole life, also while its publisher is away.
    const detail::QueueHolders holders = detail::scan_queue_holders();
    for (const pid_t holder : holders.of(queue_name)) {
      // The publisher holds it too (to write); any other live holder is its reader.
      if (holder != candidate.publisher_pid() && detail::process_alive(holder, 0)) {
        throw busy_id(holder);
      }
    }
    for (const SubscriberRow& row : candidate.subscribers()) {
      if (row.id == id && row.alive) {
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
      log().warn("subscriber '{}': reclaimed the stale queue {} of a dead holder", id, queue_name);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (monotonic_ns() >= deadline_ns) {
      break;
    }
  }
  throw Error(Errc::timed_out, "subscriber id '" + id + "' on topic '" + names.topic + "': its queue /dev/mqueue" +
                                   queue_name +
                                   " still exists at the attach deadline (a holder this user cannot see may "
                                   "be attaching, or another process keeps creating it); see who holds it with "
                                   "'shmsnap mq stat " +
                                   queue_name + "', or pick another id");
}

std::optional<std::uint64_t> UntypedSubscriber::State::current_epoch() const noexcept {
  try {
    return RegionReader::open(names.region(), TrustedOwners{.also = options.trusted_owners}).epoch();
  } catch (const Error&) {
    return std::nullopt;
  }
}

Error UntypedSubscriber::State::epoch_changed(const RegionReader& candidate, std::uint64_t now_epoch) const {
  return Error(Errc::protocol, "topic '" + names.topic + "': the epoch changed from " +
                                   std::to_string(candidate.epoch()) + " to " + std::to_string(now_epoch) +
                                   " while attaching (publisher pid " + std::to_string(candidate.publisher_pid()) +
                                   " restarted or was replaced); retry to attach to the new one");
}

void UntypedSubscriber::State::register_with_publisher(const RegionReader& candidate, std::int64_t deadline) {
  control = MessageQueue::open(names.control_queue(), MessageQueue::Access::write, true);
  // Checked on the open descriptor: the queue we will write is the one we looked at.
  if (const uid_t queue_owner = control.owner(); queue_owner != candidate.owner()) {
    throw Error(Errc::permission_denied, "topic '" + names.topic + "': its control queue /dev/mqueue" +
                                             names.control_queue() + " is owned by user " + user_name(queue_owner) +
                                             ", not by the region's owner " + user_name(candidate.owner()) +
                                             ": another user may have created the name; remove it (shmsnap mq unlink " +
                                             names.control_queue() + ") and restart the publisher");
  }
  if (const mode_t queue_mode = control.mode(); (queue_mode & control_mode_refused) != 0) {
    throw Error(Errc::permission_denied,
                "topic '" + names.topic + "': its control queue /dev/mqueue" + names.control_queue() + " has mode " +
                    octal(queue_mode) +
                    ": users other than the publisher may read it and answer this subscriber in the publisher's "
                    "name, so it is refused. A publisher creates it 0620; 'chmod go-r /dev/mqueue" +
                    names.control_queue() + "' or restart the publisher");
  }
  // Leftovers from a previous publisher would only delay the WELCOME.
  std::array<std::byte, sizeof(NotifyMessage)> buffer{};
  while (notify.receive(buffer).status == QueueStatus::ok) {
  }
  const std::uint32_t flags = options.mode == WaitMode::spin ? 0U : hello_wants_notify;
  nonce = random_nonce();
  const ControlMessage hello = make_control(ControlKind::hello, id, getpid(), candidate.epoch(),
                                            candidate.header().schema_fingerprint, flags, nonce);
  if (control.send_for(as_bytes(hello), control_priority,
                       std::chrono::nanoseconds(std::max<std::int64_t>(0, deadline - monotonic_ns()))) !=
      QueueStatus::ok) {
    throw Error(Errc::timed_out, "topic '" + names.topic + "': the control queue of publisher pid " +
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
      throw Error(Errc::timed_out, "topic '" + names.topic + "': publisher pid " +
                                       std::to_string(candidate.publisher_pid()) +
                                       " did not answer HELLO in time (is it stopped or overloaded?)");
    }
    const Received received =
        notify.receive_for(buffer, std::chrono::nanoseconds(std::min<std::int64_t>(left, 20'000'000)));
    if (received.status != QueueStatus::ok) {
      if (!candidate.publisher_alive()) {
        throw Error(Errc::not_found, "topic '" + names.topic + "': publisher pid " +
                                         std::to_string(candidate.publisher_pid()) + " exited during attach");
      }
      continue;
    }
    const auto message = parse_notify(std::span(buffer.data(), received.size)).message;
    // Only an answer echoing our nonce counts: anyone in the topic's group may
    // write to our queue, but only the publisher read the HELLO.
    if (!message || message->kind == NotifyKind::update || message->nonce != nonce) {
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
                      "topic '" + names.topic + "' has reached its limit of " + std::to_string(message->limit) +
                          " subscribers (max_subscribers); raise it where the publisher is created "
                          "(PublisherOptions::max_subscribers, shmsnap-publisher --max-subscribers) or stop unused "
                          "subscribers ('shmsnap list' shows them)");
        case RejectReason::id_in_use:
          throw Error(Errc::busy, "subscriber id '" + id + "' on topic '" + names.topic + "' is in use by pid " +
                                      std::to_string(message->holder_pid) +
                                      "; pick another id or stop that subscriber");
        default:
          throw Error(Errc::protocol, "topic '" + names.topic + "': publisher pid " +
                                          std::to_string(candidate.publisher_pid()) + " refused HELLO for epoch " +
                                          std::to_string(candidate.epoch()) +
                                          " (the epoch changed: the publisher restarted); retry");
      }
    }
  }
}

void UntypedSubscriber::State::attach(std::int64_t deadline) {
  RegionReader candidate = RegionReader::open(names.region(), TrustedOwners{.also = options.trusted_owners});
  if (candidate.closed() || !candidate.publisher_alive()) {
    throw Error(Errc::not_found, "topic '" + names.topic + "' has no live publisher (pid " +
                                     std::to_string(candidate.publisher_pid()) +
                                     (candidate.closed() ? " shut it down" : " is gone") +
                                     "); start one, or remove leftovers with 'shmsnap clean'");
  }
  check_schema(candidate);
  create_notify_queue(candidate, deadline);
  const int candidate_pidfd = detail::open_pidfd(candidate.publisher_pid());
  try {
    register_with_publisher(candidate, deadline);
  } catch (...) {
    if (candidate_pidfd >= 0) {
      ::close(candidate_pidfd);
    }
    control.close();
    throw;
  }
  if (pidfd >= 0) {
    ::close(pidfd);
  }
  pidfd = candidate_pidfd;
  if (schema == nullptr && local.size() != candidate.payload_size()) {
    local.assign(candidate.payload_size(), std::byte{0});
  }
  descriptor.assign(candidate.descriptor());
  schema_name.assign(candidate.schema_name());
  schema_seen = SchemaInfo{.name = schema_name,
                           .version = candidate.header().schema_version,
                           .fingerprint = candidate.header().schema_fingerprint,
                           .size = candidate.payload_size(),
                           .descriptor = descriptor};
  attached_inode = candidate.inode();
  attached_epoch = candidate.epoch();
  region.emplace(std::move(candidate));
  last_seq = 0;
  stale = false;
  stalled = false;
  info.stale = false;
  info.epoch = attached_epoch;
  rebuild_epoll();
  arm_timer(heartbeat_watch_period());
  watch_heartbeat();  // a late joiner of a stalled or source-lost topic starts stale
}

void UntypedSubscriber::State::rebuild_epoll() noexcept {
  for (const int descriptor_fd : {notify.native_handle(), pidfd, timer_fd}) {
    if (descriptor_fd >= 0) {
      epoll_ctl(epoll_fd, EPOLL_CTL_DEL, descriptor_fd, nullptr);
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.fd = descriptor_fd;
      epoll_ctl(epoll_fd, EPOLL_CTL_ADD, descriptor_fd, &event);
    }
  }
}

std::chrono::nanoseconds UntypedSubscriber::State::heartbeat_watch_period() const noexcept {
  return std::max<std::chrono::nanoseconds>(std::chrono::milliseconds(1),
                                            std::chrono::nanoseconds(options.stall_timeout) / 4);
}

// The timer makes fd() readable periodically: while attached, to watch the
// publisher's heartbeat; while stale, to look for a successor.
void UntypedSubscriber::State::arm_timer(std::chrono::nanoseconds period) noexcept {
  itimerspec spec{};
  spec.it_interval.tv_sec = static_cast<time_t>(period.count() / 1'000'000'000);
  spec.it_interval.tv_nsec = static_cast<long>(period.count() % 1'000'000'000);
  spec.it_value = spec.it_interval;
  timerfd_settime(timer_fd, 0, &spec, nullptr);
  std::uint64_t expirations = 0;
  [[maybe_unused]] const ssize_t drained = ::read(timer_fd, &expirations, sizeof expirations);
}

void UntypedSubscriber::State::detach(bool send_bye) noexcept {
  if (send_bye && control.is_open() && region && region->publisher_alive() && !region->closed()) {
    const ControlMessage bye =
        make_control(ControlKind::bye, id, getpid(), region->epoch(), region->header().schema_fingerprint, 0, nonce);
    control.send(as_bytes(bye), control_priority);
  }
  control.close();
  if (pidfd >= 0) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, pidfd, nullptr);
    ::close(pidfd);
    pidfd = -1;
  }
  region.reset();
}

}  // namespace shmsnap
