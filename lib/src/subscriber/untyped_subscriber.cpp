// The untyped subscriber's public face (subscriber.hpp): construction, the wait
// entry points and the accessors. Its work happens in the engine
// (subscriber_engine.hpp) and its parts.
#include "subscriber/subscriber_engine.hpp"

namespace shmsnap {

UntypedSubscriber::UntypedSubscriber(std::string_view topic, const SchemaInfo* schema, const SubscriberOptions& options)
    : state_(std::make_unique<State>(*this, topic, schema, options)) {}

UntypedSubscriber::~UntypedSubscriber() = default;

bool UntypedSubscriber::wait(std::chrono::nanoseconds timeout) noexcept {
  return state_->wait(timeout);
}
bool UntypedSubscriber::poll() noexcept {
  return state_->process(monotonic_ns());
}
int UntypedSubscriber::fd() const noexcept {
  return state_->fd();
}
std::span<const std::byte> UntypedSubscriber::bytes() const noexcept {
  return state_->reader().bytes();
}
bool UntypedSubscriber::has_value() const noexcept {
  return state_->reader().has_value();
}
bool UntypedSubscriber::stale() const noexcept {
  return state_->stale_or_stalled();
}
const UpdateInfo& UntypedSubscriber::info() const noexcept {
  return state_->reader().info();
}
SubscriberStats UntypedSubscriber::stats() const noexcept {
  return state_->reader().stats();
}
const std::string& UntypedSubscriber::id() const noexcept {
  return state_->id();
}
const std::string& UntypedSubscriber::topic() const noexcept {
  return state_->topic();
}
const std::string& UntypedSubscriber::descriptor() const noexcept {
  return state_->attachment().descriptor();
}
const SchemaInfo& UntypedSubscriber::schema() const noexcept {
  return state_->attachment().schema_seen();
}
pid_t UntypedSubscriber::publisher_pid() const noexcept {
  return state_->attachment().publisher_pid();
}

// Zero-copy read support (subscriber.hpp): the region followed now, and the retry
// count of reads made through it.
const RegionReader* UntypedSubscriber::region() const noexcept {
  return state_->attachment().region();
}

void UntypedSubscriber::count_retries(std::uint64_t retries) noexcept {
  state_->count_retries(retries);
}

}  // namespace shmsnap
