#include <poll.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <optional>
#include <random>
#include <thread>

#include "log.hpp"
#include "process.hpp"
#include "shmsnap/admin.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/message_queue.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/protocol.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/subscriber.hpp"

namespace shmsnap {
namespace {

using detail::log;

// A holder of our id may be attaching right now (its HELLO not yet in the
// publisher's table): look this long before calling its queue stale.
constexpr auto holder_grace = std::chrono::milliseconds(300);
// In spin mode, read the clock every this many polls of the published word, and
// look at the queue and the publisher's liveness every spin_liveness_interval_ns.
constexpr unsigned spin_clock_interval = 256;
constexpr std::int64_t spin_liveness_interval_ns = 1'000'000;
// A re-attach inside wait()/poll() may take at least this long, whatever the
// caller's deadline: the HELLO/WELCOME exchange with the new publisher.
constexpr std::int64_t min_reattach_budget_ns = 100'000'000;
// Without a pidfd (kernels before 5.3) a blocking wait re-checks the publisher's
// liveness at least this often; with one, its exit wakes the wait at once.
constexpr std::int64_t liveness_slice_ns = 50'000'000;

// A relative timeout for ppoll, which measures it on CLOCK_MONOTONIC (so a step
// of the wall clock neither stretches nor cuts a wait), at nanosecond resolution.
timespec relative_timeout(std::int64_t nanoseconds) noexcept {
  nanoseconds = std::max<std::int64_t>(0, nanoseconds);
  return timespec{.tv_sec = static_cast<time_t>(nanoseconds / 1'000'000'000),
                  .tv_nsec = static_cast<long>(nanoseconds % 1'000'000'000)};
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

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

struct SubscriberCore::State {
  SubscriberCore& owner;
  TopicNames names;
  SubscriberOptions options;
  const SchemaInfo* schema;
  std::string id;

  MessageQueue notify;  // non-blocking: drained after a wake-up; in the epoll set behind fd()
  std::optional<RegionReader> region;
  MessageQueue control;
  int pidfd = -1;
  int epoll_fd = -1;
  int timer_fd = -1;

  std::vector<std::byte> local;  // the local state; reallocated only for schema-less readers
  std::string descriptor;
  std::string schema_name;  // owns the text that `schema` views
  SchemaInfo schema_seen;   // the attached region's schema (name, version, fingerprint, size)
  std::uint64_t nonce = 0;  // secret of the current registration (HELLO/WELCOME/BYE)
  bool has_value = false;
  bool stale = false;    // detached: the publisher is gone
  bool stalled = false;  // attached, but the publisher's heartbeat stopped
  bool publisher_lost_pending = false;
  bool reattach_now = false;
  ino_t attached_inode = 0;
  std::uint64_t attached_epoch = 0;
  std::uint64_t last_seq = 0;
  std::int64_t next_reattach_ns = 0;
  UpdateInfo info;
  SubscriberStats stats;

  State(SubscriberCore& core, std::string_view topic, const SchemaInfo* reader_schema, const SubscriberOptions& opts);
  ~State();

  void attach(std::int64_t deadline);  // throws
  void check_schema(const RegionReader& candidate) const;
  void create_notify_queue(const RegionReader& candidate);
  [[nodiscard]] Error busy_id(pid_t holder) const;
  void register_with_publisher(const RegionReader& candidate, std::int64_t deadline);
  void rebuild_epoll() noexcept;
  void arm_timer(std::chrono::nanoseconds period) noexcept;
  [[nodiscard]] std::chrono::nanoseconds heartbeat_watch_period() const noexcept;
  void detach(bool send_bye) noexcept;
  void release() noexcept;
  void go_stale(const char* why) noexcept;
  bool try_reattach(std::int64_t deadline) noexcept;
  enum class Drained { nothing, message, shutdown };
  Drained handle_message(std::span<const std::byte> bytes) noexcept;
  Drained drain_notifications() noexcept;
  bool publisher_gone() const noexcept;
  bool after_wakeup(Drained drained, std::int64_t deadline) noexcept;
  bool deliver_newest(std::int64_t deadline_ns) noexcept;
  bool process(std::int64_t deadline) noexcept;
  bool wait_blocking(std::int64_t deadline_ns) noexcept;
  bool wait_spinning(std::int64_t deadline_ns, bool until_deadline) noexcept;
  void report(StatusEvent event) noexcept;
  void watch_heartbeat() noexcept;
};

SubscriberCore::State::State(SubscriberCore& core, std::string_view topic, const SchemaInfo* reader_schema,
                             const SubscriberOptions& opts)
    : owner(core),
      names(opts.prefix, topic),
      options(opts),
      schema(reader_schema),
      id(opts.id.empty() ? next_auto_id() : opts.id) {
  validate_name("subscriber id", id, max_subscriber_id_length);
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

SubscriberCore::State::~State() {
  detach(true);
  release();
}

void SubscriberCore::State::release() noexcept {
  if (notify.is_open()) {
    // Ours alone, so nothing is left behind; but never a successor's queue of the same name.
    MessageQueue::unlink_if_same(names.notify_queue(id), notify.inode());
    notify.close();
  }
  ::close(epoll_fd);
  ::close(timer_fd);
}

void SubscriberCore::State::check_schema(const RegionReader& candidate) const {
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

Error SubscriberCore::State::busy_id(pid_t holder) const {
  return Error(Errc::busy, "subscriber id '" + id + "' on topic '" + names.topic + "' is in use by pid " +
                               std::to_string(holder) + "; pick another id or stop that subscriber");
}

void SubscriberCore::State::create_notify_queue(const RegionReader& candidate) {
  if (notify.is_open()) {
    return;  // re-attaching: we keep our queue (and our id) across publishers
  }
  MessageQueue::CreateOptions queue_options;
  queue_options.max_messages = 1;  // conflation: one pending wake-up is all a latest-value reader needs
  queue_options.message_size = sizeof(NotifyMessage);
  queue_options.mode = options.queue_mode;
  queue_options.access = MessageQueue::Access::read;
  const std::string queue_name = names.notify_queue(id);
  const auto deadline = std::chrono::steady_clock::now() + holder_grace;
  while (true) {
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
    const admin::QueueHolders holders = admin::scan_queue_holders();
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
    if (holders.conclusive_for(geteuid()) || std::chrono::steady_clock::now() >= deadline) {
      log().warn("subscriber '{}': reclaiming the stale queue {} of a dead holder", id, queue_name);
      MessageQueue::unlink(queue_name);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

void SubscriberCore::State::register_with_publisher(const RegionReader& candidate, std::int64_t deadline) {
  control = MessageQueue::open(names.control_queue(), MessageQueue::Access::write, true);
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
    if (!message || message->kind == NotifyKind::update || message->epoch != candidate.epoch() ||
        message->nonce != nonce) {
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
          throw Error(Errc::protocol,
                      "topic '" + names.topic + "': the publisher refused HELLO (epoch changed); retry");
      }
    }
  }
}

void SubscriberCore::State::attach(std::int64_t deadline) {
  RegionReader candidate = RegionReader::open(names.region(), TrustedOwners{.also = options.trusted_owners});
  if (candidate.closed() || !candidate.publisher_alive()) {
    throw Error(Errc::not_found, "topic '" + names.topic + "' has no live publisher (pid " +
                                     std::to_string(candidate.publisher_pid()) +
                                     (candidate.closed() ? " shut it down" : " is gone") +
                                     "); start one, or remove leftovers with 'shmsnap clean'");
  }
  check_schema(candidate);
  create_notify_queue(candidate);
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
}

void SubscriberCore::State::rebuild_epoll() noexcept {
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

std::chrono::nanoseconds SubscriberCore::State::heartbeat_watch_period() const noexcept {
  return std::max<std::chrono::nanoseconds>(std::chrono::milliseconds(1),
                                            std::chrono::nanoseconds(options.stall_timeout) / 4);
}

// The timer makes fd() readable periodically: while attached, to watch the
// publisher's heartbeat; while stale, to look for a successor.
void SubscriberCore::State::arm_timer(std::chrono::nanoseconds period) noexcept {
  itimerspec spec{};
  spec.it_interval.tv_sec = static_cast<time_t>(period.count() / 1'000'000'000);
  spec.it_interval.tv_nsec = static_cast<long>(period.count() % 1'000'000'000);
  spec.it_value = spec.it_interval;
  timerfd_settime(timer_fd, 0, &spec, nullptr);
  std::uint64_t expirations = 0;
  [[maybe_unused]] const ssize_t drained = ::read(timer_fd, &expirations, sizeof expirations);
}

void SubscriberCore::State::detach(bool send_bye) noexcept {
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

void SubscriberCore::State::report(StatusEvent event) noexcept {
  if (owner.status_handler_) {
    owner.status_handler_(event, info);
  }
}

void SubscriberCore::State::go_stale(const char* why) noexcept {
  if (stale) {
    return;
  }
  log().info("subscriber '{}' on topic '{}': publisher pid {} {}; keeping the last state (seq {}) as stale", id,
             names.topic, region ? region->publisher_pid() : 0, why, last_seq);
  detach(false);
  stale = true;
  stalled = false;
  info.stale = true;
  next_reattach_ns = 0;
  arm_timer(options.reattach_interval);
  report(StatusEvent::publisher_lost);
}

bool SubscriberCore::State::try_reattach(std::int64_t deadline) noexcept {
  const std::int64_t now = monotonic_ns();
  if (!reattach_now && now < next_reattach_ns) {
    return false;
  }
  reattach_now = false;
  next_reattach_ns = now + std::chrono::nanoseconds(options.reattach_interval).count();
  try {
    // Cheap look first: the same dead region, or none at all, is the common case.
    RegionReader candidate = RegionReader::open(names.region(), TrustedOwners{.also = options.trusted_owners});
    if ((candidate.inode() == attached_inode && candidate.epoch() == attached_epoch) || candidate.closed() ||
        !candidate.publisher_alive()) {
      return false;
    }
  } catch (const Error&) {
    return false;
  }
  const std::uint64_t previous_epoch = attached_epoch;
  if (MessageQueue::inode_of(names.notify_queue(id)) != notify.inode()) {
    // Someone removed (or replaced) our queue while we were away: make a new one.
    log().warn("subscriber '{}': its queue {} was removed or replaced; creating it again", id, names.notify_queue(id));
    notify.close();
  }
  try {
    // A re-attach happens inside wait()/poll(): it may not outlast the caller's
    // deadline by more than a short exchange with the new publisher.
    attach(std::min(monotonic_deadline(options.attach_timeout), std::max(deadline, now + min_reattach_budget_ns)));
  } catch (const Error& failure) {
    log().debug("subscriber '{}': re-attach to topic '{}' failed: {}", id, names.topic, failure.what());
    detach(false);
    return false;
  }
  ++stats.reattached;
  log().info("subscriber '{}': re-attached to topic '{}' (epoch {} -> {})", id, names.topic, previous_epoch,
             attached_epoch);
  // Reported before the new epoch's first snapshot, so the caller can reset first.
  report(StatusEvent::reattached);
  return deliver_newest(deadline);
}

SubscriberCore::State::Drained SubscriberCore::State::handle_message(std::span<const std::byte> bytes) noexcept {
  ++stats.wakeups;
  const Parsed<NotifyMessage> parsed = parse_notify(bytes);
  const std::optional<NotifyMessage>& message = parsed.message;
  if (!message) {
    log().warn("subscriber '{}': ignored a malformed notification ({})", id, parsed.problem);
    return Drained::message;
  }
  if (message->kind == NotifyKind::shutdown) {
    // Believed only with evidence (the region's state or the publisher's exit):
    // anyone in the topic's group may write to our queue.
    return Drained::shutdown;
  }
  if (message->kind == NotifyKind::epoch) {
    reattach_now = true;
  }
  return Drained::message;
}

SubscriberCore::State::Drained SubscriberCore::State::drain_notifications() noexcept {
  // The queue holds at most one message (depth 1), so one receive drains it; a
  // message arriving right after will make the descriptor readable again.
  std::array<std::byte, sizeof(NotifyMessage)> buffer{};
  const Received received = notify.receive(buffer);
  if (received.status != QueueStatus::ok) {
    return Drained::nothing;
  }
  return handle_message(std::span(buffer.data(), received.size));
}

bool SubscriberCore::State::publisher_gone() const noexcept {
  return pidfd >= 0 ? detail::pidfd_exited(pidfd) : !region->publisher_alive();
}

bool SubscriberCore::State::deliver_newest(std::int64_t deadline_ns) noexcept {
  if (!region || region->latest_seq() == last_seq) {
    return false;
  }
  SnapshotMeta meta;
  // At least one round, however short the deadline (poll() passes "now").
  for (unsigned round = 0;; ++round) {
    const ReadStatus status = region->try_read(local, meta, stats.retries);
    if (status == ReadStatus::ok) {
      break;
    }
    if (status == ReadStatus::empty) {
      return false;
    }
    if (status == ReadStatus::corrupt) {
      go_stale("published an index outside its region");
      return false;
    }
    if (status == ReadStatus::inconsistent) {
      // Someone with write access rewrote a slot header: never adopt it. The next
      // publish, into another slot, is read as usual.
      if (stats.inconsistent++ == 0) {
        log().warn(
            "subscriber '{}' on topic '{}': refused a slot whose header disagrees with the published word "
            "(the region was written by someone other than its publisher); counted in stats().inconsistent",
            id, names.topic);
      }
      return false;
    }
    // Lapped on every attempt: keep going while the writer lives; a writer that
    // died mid-write never finishes, so stop there.
    if (round % 16 == 15 && !region->publisher_alive()) {
      go_stale("died while writing");
      return false;
    }
    if (monotonic_ns() >= deadline_ns) {
      // The caller's deadline holds even against a writer that laps every read;
      // the newest snapshot stays pending (latest_seq != last_seq) for the next call.
      ++stats.contended;
      return false;
    }
    std::this_thread::yield();
  }
  if (meta.seq <= last_seq) {
    return false;  // a wake-up for a snapshot we already hold
  }
  info.skipped = last_seq == 0 ? 0 : meta.seq - last_seq - 1;
  stats.skipped += info.skipped;
  last_seq = meta.seq;
  info.seq = meta.seq;
  info.publish_ts_ns = meta.publish_ts_ns;
  info.receive_ts_ns = monotonic_ns();
  info.epoch = attached_epoch;
  info.stale = stalled;
  has_value = true;
  ++stats.delivered;
  if (owner.update_handler_) {
    owner.update_handler_(info);
  }
  return true;
}

void SubscriberCore::State::watch_heartbeat() noexcept {
  const std::int64_t age_ns = monotonic_ns() - region->header().heartbeat_ns.load(std::memory_order_relaxed);
  const bool frozen = age_ns > std::chrono::nanoseconds(options.stall_timeout).count();
  if (frozen == stalled) {
    return;
  }
  stalled = frozen;
  info.stale = frozen;
  if (frozen) {
    log().warn(
        "subscriber '{}' on topic '{}': publisher pid {} has not beaten for {:.1f} s (stopped or hung); "
        "the state (seq {}) is stale until it moves again",
        id, names.topic, region->publisher_pid(), static_cast<double>(age_ns) / 1e9, last_seq);
  } else {
    log().info("subscriber '{}' on topic '{}': publisher pid {} beats again", id, names.topic, region->publisher_pid());
  }
  report(frozen ? StatusEvent::publisher_stalled : StatusEvent::publisher_resumed);
}

bool SubscriberCore::State::after_wakeup(Drained drained, std::int64_t deadline) noexcept {
  if (!stale) {
    if (drained != Drained::message) {
      // Maybe the heartbeat timer: clear it (a wake-up with a message skips the syscall).
      std::uint64_t expirations = 0;
      [[maybe_unused]] const ssize_t drained_timer = ::read(timer_fd, &expirations, sizeof expirations);
    }
    watch_heartbeat();
    // Nothing in the queue means the wake-up came from the pidfd (or the caller
    // polled): only then is the publisher's liveness worth a syscall. A dead
    // publisher's pidfd stays readable, so a wake-up with a message is not lost.
    const bool closed = region->closed();
    if (closed || (drained != Drained::message && publisher_gone())) {
      // A final snapshot may have been published just before the end.
      const bool delivered = deliver_newest(deadline);
      go_stale(closed ? "shut down" : "exited");  // a no-op if the read already went stale
      return delivered;
    }
    return deliver_newest(deadline);
  }
  std::uint64_t expirations = 0;
  [[maybe_unused]] const ssize_t drained_timer = ::read(timer_fd, &expirations, sizeof expirations);
  return try_reattach(deadline);
}

bool SubscriberCore::State::process(std::int64_t deadline) noexcept {
  return after_wakeup(drain_notifications(), deadline);
}

bool SubscriberCore::State::wait_blocking(std::int64_t deadline_ns) noexcept {
  while (true) {
    const std::int64_t left_ns = deadline_ns - monotonic_ns();
    if (!stale) {
      // A pending notification is taken without sleeping; otherwise sleep on the
      // queue and the publisher's pidfd together, so its exit ends the wait at once.
      Drained drained = drain_notifications();
      if (drained == Drained::nothing && left_ns > 0) {
        std::array<pollfd, 2> watched{pollfd{.fd = notify.native_handle(), .events = POLLIN, .revents = 0},
                                      pollfd{.fd = pidfd, .events = POLLIN, .revents = 0}};
        // Wake at least every quarter stall_timeout to watch the heartbeat (and, without
        // a pidfd, every liveness slice).
        const std::int64_t watch_ns = heartbeat_watch_period().count();
        const timespec timeout =
            relative_timeout(std::min({left_ns, watch_ns, pidfd >= 0 ? left_ns : liveness_slice_ns}));
        if (ppoll(watched.data(), pidfd >= 0 ? 2 : 1, &timeout, nullptr) > 0) {
          drained = drain_notifications();
        }
      }
      if (after_wakeup(drained, deadline_ns)) {
        return true;
      }
    } else {
      // Stale: wait for an EPOCH message or the re-attach timer (both in the epoll set).
      std::array<pollfd, 1> watched{pollfd{.fd = epoll_fd, .events = POLLIN, .revents = 0}};
      const timespec timeout = relative_timeout(left_ns);
      if (ppoll(watched.data(), 1, &timeout, nullptr) > 0 && process(deadline_ns)) {
        return true;
      }
    }
    if (monotonic_ns() >= deadline_ns) {
      return false;
    }
  }
}

bool SubscriberCore::State::wait_spinning(std::int64_t deadline_ns, bool until_deadline) noexcept {
  std::int64_t next_check_ns = 0;
  for (unsigned spins = 1;; ++spins) {
    // The hot loop is one load of the published word; a change is read at once.
    if (!stale && region->latest_seq() != last_seq && deliver_newest(deadline_ns)) {
      return true;
    }
    if (spins % spin_clock_interval == 0) {
      const std::int64_t now = monotonic_ns();
      if (now >= next_check_ns) {
        // Queue (EPOCH/SHUTDOWN), publisher liveness and re-attach: a few syscalls, rarely.
        next_check_ns = now + spin_liveness_interval_ns;
        if (process(deadline_ns)) {
          return true;
        }
        if (stale && until_deadline) {
          return wait_blocking(deadline_ns);  // nothing to spin on without a publisher
        }
      }
      if (now >= deadline_ns) {
        return false;
      }
    }
    cpu_relax();
  }
}

SubscriberCore::SubscriberCore(std::string_view topic, const SchemaInfo* schema, const SubscriberOptions& options)
    : state_(std::make_unique<State>(*this, topic, schema, options)) {}

SubscriberCore::~SubscriberCore() = default;

bool SubscriberCore::wait(std::chrono::nanoseconds timeout) noexcept {
  State& state = *state_;
  const std::int64_t deadline = monotonic_deadline(timeout);
  switch (state.options.mode) {
    case WaitMode::notify:
      return state.wait_blocking(deadline);
    case WaitMode::spin:
      return state.wait_spinning(deadline, true);
    case WaitMode::hybrid: {
      const std::int64_t spin_deadline =
          std::min(deadline, monotonic_ns() + std::chrono::nanoseconds(state.options.hybrid_spin).count());
      if (state.wait_spinning(spin_deadline, false)) {
        return true;
      }
      return state.wait_blocking(deadline);
    }
  }
  return false;
}

bool SubscriberCore::poll() noexcept {
  return state_->process(monotonic_ns());
}
int SubscriberCore::fd() const noexcept {
  return state_->epoll_fd;
}
std::span<const std::byte> SubscriberCore::bytes() const noexcept {
  return state_->local;
}
bool SubscriberCore::has_value() const noexcept {
  return state_->has_value;
}
bool SubscriberCore::stale() const noexcept {
  return state_->stale || state_->stalled;
}
const UpdateInfo& SubscriberCore::info() const noexcept {
  return state_->info;
}
SubscriberStats SubscriberCore::stats() const noexcept {
  return state_->stats;
}
const std::string& SubscriberCore::id() const noexcept {
  return state_->id;
}
const std::string& SubscriberCore::topic() const noexcept {
  return state_->names.topic;
}
const std::string& SubscriberCore::descriptor() const noexcept {
  return state_->descriptor;
}
const SchemaInfo& SubscriberCore::schema() const noexcept {
  return state_->schema_seen;
}
pid_t SubscriberCore::publisher_pid() const noexcept {
  return state_->region ? state_->region->publisher_pid() : 0;
}

// Zero-copy read support (subscriber.hpp): the region followed now, and the retry
// count of reads made through it.
const RegionReader* SubscriberCore::region() const noexcept {
  return state_->region ? &*state_->region : nullptr;
}

void SubscriberCore::count_retries(std::uint64_t retries) noexcept {
  state_->stats.retries += retries;
}

}  // namespace shmsnap
