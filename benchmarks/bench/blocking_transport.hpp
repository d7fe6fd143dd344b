// What the blocking baselines (posix_mq, sysv_mq, uds, pipe, boost_mq) have in common:
// channels that copy each message through a buffer of their own and keep the text of
// their last failure, and a Transport with the one "blocking" mode whose channels are
// built from the spec (and, for a subscriber, its endpoint string). Each baseline adds
// its mechanism, its name and, where a kernel limit rules a row out, not_applicable().
// Each object is used from one thread, as transport.hpp says.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/aligned_buffer.hpp"
#include "bench/transport.hpp"

namespace shmsnap::bench {

/// A publisher whose message lives in its own buffer and whose failures are texts.
class BlockingPublisher : public PublisherChannel {
 public:
  std::span<std::byte> buffer() noexcept override { return buffer_.span(); }
  std::string last_error() const override { return error_; }

 protected:
  explicit BlockingPublisher(std::size_t buffer_bytes) : buffer_(buffer_bytes) {}
  AlignedBuffer buffer_;
  std::string error_;  ///< set by a failed publish()
};

/// A subscriber that copies each message out into its own buffer.
class BlockingSubscriber : public SubscriberChannel {
 public:
  std::string last_error() const override { return error_; }

 protected:
  explicit BlockingSubscriber(std::size_t buffer_bytes) : buffer_(buffer_bytes) {}
  AlignedBuffer buffer_;
  std::string error_;  ///< set by a failed receive()
};

/// `Publisher` is constructible from a ChannelSpec; `Subscriber` from a ChannelSpec and
/// the endpoint string that Publisher::endpoint() gave it.
template <typename Publisher, typename Subscriber>
class BlockingTransport : public Transport {
 public:
  std::vector<std::string> modes(std::span<const std::string> /*requested*/) const override { return {"blocking"}; }
  std::optional<std::string> not_applicable(const ChannelSpec& /*spec*/) const override { return std::nullopt; }
  std::unique_ptr<PublisherChannel> create_publisher(const ChannelSpec& spec) const override {
    return std::make_unique<Publisher>(spec);
  }
  std::unique_ptr<SubscriberChannel> open_subscriber(const ChannelSpec& spec, int /*index*/,
                                                     const std::string& endpoint) const override {
    return std::make_unique<Subscriber>(spec, endpoint);
  }
};

}  // namespace shmsnap::bench
