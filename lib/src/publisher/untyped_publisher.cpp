// The untyped publisher: creating a topic, its threads' lifetime, and the writer's
// path of one publish (begin_write -> payload -> commit_write -> fan-out). The
// publishing thread calls the writer functions; shutdown() and the destructor may
// be called from any one thread.

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "publisher/publisher_state.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/region.hpp"
#include "system/fault_injection.hpp"
#include "system/log.hpp"

namespace shmsnap {
namespace {

using detail::log;

// Subscribers may write the control queue when they may read the region: the
// region's read bits become the queue's write bits (0640 -> 0620).
mode_t control_queue_mode(mode_t region_mode) {
  const mode_t read_bits = region_mode & 0444;
  return 0600 | (read_bits >> 1);
}

}  // namespace

UntypedPublisher::State::State(std::string_view topic, const SchemaInfo& schema, std::size_t payload_size,
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
  epoch = region.epoch();
  payload_bytes = spec.payload_size;
  fault_seq = detail::mid_write_fault_seq();

  // A dead publisher's control queue may linger; we own the topic now.
  MessageQueue::unlink(names.control_queue());
  MessageQueue::CreateOptions control_options;
  control_options.max_messages = MqLimits::read().msg_max;
  control_options.message_size = sizeof(ControlMessage);
  control_options.mode = control_queue_mode(opts.mode);
  control_options.access = MessageQueue::Access::read;
  try {
    control = MessageQueue::create(names.control_queue(), control_options);
  } catch (const Error& failure) {
    const std::optional<uid_t> squatter = MessageQueue::owner_of(names.control_queue());
    if (failure.code() != Errc::busy || !squatter) {
      throw;
    }
    // The unlink above failed: another user's name in the sticky /dev/mqueue.
    throw Error(Errc::permission_denied,
                "topic '" + names.topic + "': its control queue /dev/mqueue" + names.control_queue() +
                    " exists, owned by user " + user_name(*squatter) +
                    ", and this user may not remove it; another user may have created the name to block the topic. "
                    "Remove it as that user or root (shmsnap mq unlink " +
                    names.control_queue() + ")",
                failure.os_errno());
  }

  announce_to_previous(previous);
  start_threads();
  log().info("topic '{}' published at /dev/shm{} (epoch {}, {} slots of {} bytes, schema {} v{})", names.topic,
             names.region(), epoch, opts.slot_count, payload_size, schema.name, schema.version);
}

UntypedPublisher::State::~State() {
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

void UntypedPublisher::State::close() noexcept {
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

void UntypedPublisher::State::start_threads() {
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

void UntypedPublisher::State::stop_threads() noexcept {
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

UntypedPublisher::UntypedPublisher(std::string_view topic, const SchemaInfo& schema, std::size_t payload_size,
                                   const PublisherOptions& options)
    : state_(std::make_unique<State>(topic, schema, payload_size, options)) {}

UntypedPublisher::~UntypedPublisher() = default;

void UntypedPublisher::shutdown() noexcept {
  state_->close();
}

std::byte* UntypedPublisher::begin_write() noexcept {
  State& state = *state_;
  SHMSNAP_EXPECTS(!state.shut_down);  // not after shutdown()
  SHMSNAP_EXPECTS(!state.loan_open && "loan() or publish() while a Loan is open: publish or drop the Loan first");
  state.loan_open = true;
  state.loan_slot = (state.current_slot + 1) % state.options.slot_count;
  state.region.slot(state.loan_slot).lock.write_begin(state.region.slot_sequence(state.loan_slot));
  return state.region.payload(state.loan_slot);
}

std::uint64_t UntypedPublisher::commit_write() noexcept {
  return commit_write(state_->payload_bytes);
}

std::uint64_t UntypedPublisher::commit_write(std::size_t used_bytes) noexcept {
  State& state = *state_;
  SHMSNAP_EXPECTS(state.loan_open);
  SHMSNAP_EXPECTS(used_bytes <= state.payload_bytes && "a snapshot longer than the topic's payload size");
  state.loan_open = false;
  const std::uint64_t seq = ++state.seq;
  const std::int64_t ts = monotonic_ns();
  detail::SlotHeader& slot = state.region.slot(state.loan_slot);
  if (seq == state.fault_seq) {
    raise(SIGKILL);  // test executables only (fault_injection.hpp): die with the slot's sequence odd
  }
  slot.publish_seq.store(seq, std::memory_order_relaxed);
  slot.publish_ts_ns.store(ts, std::memory_order_relaxed);
  slot.used_bytes.store(used_bytes, std::memory_order_relaxed);
  slot.lock.write_end(state.region.slot_sequence(state.loan_slot));
  // Pairs with the acquire load of `published` in RegionReader::try_read. The
  // notification below is sent after this store, and the subscriber reads
  // `published` after dequeuing it: a wake-up can never precede its snapshot.
  state.region.header().published.store(detail::pack_published(seq, state.loan_slot), std::memory_order_release);
  state.current_slot = state.loan_slot;
  state.published.fetch_add(1, std::memory_order_relaxed);
  if (state.source_lost) {
    state.source_lost = false;
    state.region.header().state.store(static_cast<std::uint32_t>(detail::RegionState::live), std::memory_order_release);
  }
  if (state.options.fan_out == FanOut::caller) {
    state.notify_all(NotifyKind::update, seq, ts);
  } else {
    state.pending_ts.store(ts, std::memory_order_relaxed);
    state.pending_seq.store(seq, std::memory_order_release);  // pairs with notifier_loop's wait
    state.pending_seq.notify_one();
  }
  return seq;
}

void UntypedPublisher::abort_write() noexcept {
  State& state = *state_;
  SHMSNAP_EXPECTS(state.loan_open);
  state.loan_open = false;
  // The payload is half overwritten: mark the slot as belonging to no publish, so
  // a reader that loaded an older published word onto it retries (region_reader.cpp).
  detail::SlotHeader& slot = state.region.slot(state.loan_slot);
  slot.publish_seq.store(0, std::memory_order_relaxed);
  slot.lock.write_end(state.region.slot_sequence(state.loan_slot));
}

std::uint64_t UntypedPublisher::publish(const void* data, std::size_t size) noexcept {
  SHMSNAP_EXPECTS(size <= state_->payload_bytes);
  SHMSNAP_EXPECTS(!state_->loan_open && "publish() while a Loan is open: publish or drop the Loan first");
  std::byte* slot_payload = begin_write();
  copy_to_shared(slot_payload, data, size);
  return commit_write(size);
}

void UntypedPublisher::mark_source_lost() noexcept {
  State& state = *state_;
  SHMSNAP_EXPECTS(!state.shut_down);
  state.source_lost = true;
  state.region.header().state.store(static_cast<std::uint32_t>(detail::RegionState::source_lost),
                                    std::memory_order_release);
  // A wake-up with no new snapshot: subscribers look at the state word at once.
  state.notify_all(NotifyKind::update, state.seq, monotonic_ns());
}

PublisherStats UntypedPublisher::stats() const noexcept {
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

std::uint64_t UntypedPublisher::epoch() const noexcept {
  return state_->epoch;
}

std::uint64_t UntypedPublisher::last_seq() const noexcept {
  return state_->seq;
}

const std::string& UntypedPublisher::topic() const noexcept {
  return state_->names.topic;
}

const std::string& UntypedPublisher::region_name() const noexcept {
  return state_->region.name();
}

}  // namespace shmsnap
