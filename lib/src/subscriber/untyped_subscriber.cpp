// The untyped subscriber's public face (subscriber.hpp): construction, the wait
// entry points and the accessors. Its work happens in the other files here.
#include <algorithm>

#include "shmsnap/clock.hpp"
#include "subscriber/subscriber_state.hpp"

namespace shmsnap {

UntypedSubscriber::UntypedSubscriber(std::string_view topic, const SchemaInfo* schema, const SubscriberOptions& options)
    : state_(std::make_unique<State>(*this, topic, schema, options)) {}

UntypedSubscriber::~UntypedSubscriber() = default;

bool UntypedSubscriber::wait(std::chrono::nanoseconds timeout) noexcept {
  State& state = *state_;
  const std::int64_t deadline = monotonic_deadline(timeout);
  state.status_reported = false;
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
      if (state.status_ends_wait()) {
        return false;
      }
      return state.wait_blocking(deadline);
    }
  }
  return false;
}

bool UntypedSubscriber::poll() noexcept {
  return state_->process(monotonic_ns());
}
int UntypedSubscriber::fd() const noexcept {
  return state_->epoll_fd;
}
std::span<const std::byte> UntypedSubscriber::bytes() const noexcept {
  return state_->local;
}
bool UntypedSubscriber::has_value() const noexcept {
  return state_->has_value;
}
bool UntypedSubscriber::stale() const noexcept {
  return state_->stale || state_->stalled;
}
const UpdateInfo& UntypedSubscriber::info() const noexcept {
  return state_->info;
}
SubscriberStats UntypedSubscriber::stats() const noexcept {
  return state_->stats;
}
const std::string& UntypedSubscriber::id() const noexcept {
  return state_->id;
}
const std::string& UntypedSubscriber::topic() const noexcept {
  return state_->names.topic;
}
const std::string& UntypedSubscriber::descriptor() const noexcept {
  return state_->descriptor;
}
const SchemaInfo& UntypedSubscriber::schema() const noexcept {
  return state_->schema_seen;
}
pid_t UntypedSubscriber::publisher_pid() const noexcept {
  return state_->region ? state_->region->publisher_pid() : 0;
}

// Zero-copy read support (subscriber.hpp): the region followed now, and the retry
// count of reads made through it.
const RegionReader* UntypedSubscriber::region() const noexcept {
  return state_->region ? &*state_->region : nullptr;
}

void UntypedSubscriber::count_retries(std::uint64_t retries) noexcept {
  state_->stats.retries += retries;
}

}  // namespace shmsnap
