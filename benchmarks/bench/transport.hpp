// The seam between the harness and one IPC mechanism. The orchestrator process (which
// is also the publisher) owns one PublisherChannel per configuration; each subscriber
// process owns one SubscriberChannel. Each object is used from a single thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench/payload.hpp"

namespace shmsnap::bench {

/// One configuration as a transport sees it; identical in publisher and subscribers.
struct ChannelSpec {
  std::string run_name;           ///< unique per run (pid) and configuration; [A-Za-z0-9_.-] only
  std::string mode;               ///< "blocking" for the queue baselines, "spin" for the floor,
                                  ///< "notify"/"spin"/"hybrid" for shmsnap
  std::size_t payload_bytes = 0;  ///< the message size; for shmsnap the topic's capacity
  /// How much of each message is stamped, published and checked (<= payload_bytes).
  /// Below payload_bytes only where Transport::carries_used_prefix() (shmsnap's
  /// variable-size snapshots); equal to payload_bytes for every other row.
  std::size_t used_bytes = 0;
  int subscribers = 1;
  bool max_rate = false;         ///< the publisher runs unpaced (throughput mode)
  std::uint32_t slot_count = 0;  ///< shmsnap's slots per topic; 0: the library's default
};

/// An absolute CLOCK_MONOTONIC deadline, in nanoseconds.
using DeadlineNs = std::int64_t;

/// Receives one delivered message and the monotonic time at which its copy-out finished.
using MessageSink = std::function<void(std::span<const std::byte> message, std::int64_t received_ns)>;

/// Receives one delivered message already self-checked (payload.hpp's inspect_message):
/// its inspection, its size and the monotonic time at which it had been read.
using InspectedSink = std::function<void(const Inspection& inspection, std::size_t size, std::int64_t received_ns)>;

/// Outcome of one SubscriberChannel::receive().
enum class ReceiveStatus {
  delivered,  ///< the sink was called once
  timed_out,  ///< the deadline passed first
  failed,     ///< the channel broke (peer gone, queue removed); see last_error()
};

/// Publisher end of one configuration. Its destructor removes every OS object it created.
class PublisherChannel {
 public:
  virtual ~PublisherChannel() = default;
  /// The message the harness stamps before each publish(), payload_bytes long (the
  /// harness stamps its first used_bytes). The transport owns it so that publishing
  /// needs no extra copy (e.g. SysV's mtype word sits just before it).
  /// The harness asks again before every message: a zero-copy transport (iceoryx)
  /// returns a freshly loaned chunk after each publish().
  [[nodiscard]] virtual std::span<std::byte> buffer() noexcept = 0;
  /// What subscriber `index` needs to attach (a name or an inherited fd number); it
  /// reaches the subscriber process on its command line.
  [[nodiscard]] virtual std::string endpoint(int index) const = 0;
  /// Descriptors subscriber `index` must inherit across exec.
  [[nodiscard]] virtual std::vector<int> inherited_fds(int /*index*/) const { return {}; }
  /// Every subscriber process has been started: close the ends that now belong to them.
  virtual void subscribers_spawned() {}
  /// Delivers buffer() (its first used_bytes, where the transport carries a used
  /// prefix) to every subscriber (one message each for the fan-out baselines). Blocks the way the mechanism naturally
  /// blocks. False when `deadline` passed or the channel broke; last_error() says which.
  [[nodiscard]] virtual bool publish(DeadlineNs deadline) noexcept = 0;
  /// Why the last publish() failed.
  [[nodiscard]] virtual std::string last_error() const { return {}; }
};

/// Subscriber end of one configuration, in its own process.
class SubscriberChannel {
 public:
  virtual ~SubscriberChannel() = default;
  /// Waits for the next message (the newest one, for latest-state transports) and
  /// hands it to `sink` once, timestamped right after the copy-out.
  [[nodiscard]] virtual ReceiveStatus receive(const MessageSink& sink, DeadlineNs deadline) = 0;
  /// As receive(), then inspect_message() on the local copy (timestamp taken right
  /// after the copy-out, before the check). Zero-copy transports override it: they
  /// inspect the message where it lies and take the timestamp once it has been read.
  [[nodiscard]] virtual ReceiveStatus receive_inspected(const InspectedSink& sink, DeadlineNs deadline) {
    return receive([&sink](std::span<const std::byte> message,
                           std::int64_t received_ns) { sink(inspect_message(message), message.size(), received_ns); },
                   deadline);
  }
  /// Seqlock read retries so far; 0 for transports without a seqlock.
  [[nodiscard]] virtual std::uint64_t retries() const noexcept { return 0; }
  /// Why the last receive() failed.
  [[nodiscard]] virtual std::string last_error() const { return {}; }
};

/// One IPC mechanism under test. Setup calls throw std::runtime_error with a message
/// that names the resource and the cause.
class Transport {
 public:
  virtual ~Transport() = default;
  /// The name used on the command line and in the JSON `transport` key.
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  /// The modes to run, given the modes the user asked for (which only shmsnap honours).
  [[nodiscard]] virtual std::vector<std::string> modes(std::span<const std::string> requested) const = 0;
  /// Why `spec` cannot run here (a payload above a kernel limit, ...), or nullopt.
  [[nodiscard]] virtual std::optional<std::string> not_applicable(const ChannelSpec& spec) const = 0;
  /// True when a message may carry only its first ChannelSpec::used_bytes (a
  /// variable-size snapshot); the queues, pipes and iceoryx send whole messages.
  [[nodiscard]] virtual bool carries_used_prefix() const noexcept { return false; }
  /// Called once before the first row with every payload size and the largest
  /// subscriber count of the run (iceoryx sizes its RouDi mempools from them).
  virtual void prepare_run(std::span<const std::size_t> /*payloads*/, int /*max_subscribers*/) {}
  /// True when a subscriber in `mode` keeps a core busy while it waits.
  [[nodiscard]] virtual bool busy_waits(std::string_view /*mode*/) const noexcept { return false; }
  /// Creates the OS objects of one configuration (publisher side).
  [[nodiscard]] virtual std::unique_ptr<PublisherChannel> create_publisher(const ChannelSpec& spec) const = 0;
  /// Attaches subscriber `index` to what create_publisher() made, via its endpoint().
  [[nodiscard]] virtual std::unique_ptr<SubscriberChannel> open_subscriber(const ChannelSpec& spec, int index,
                                                                           const std::string& endpoint) const = 0;
};

/// The transport called `name`; throws std::invalid_argument listing the known ones.
[[nodiscard]] std::unique_ptr<Transport> make_transport(std::string_view name);
/// Every transport compiled into this binary, in report order (floor first).
[[nodiscard]] std::vector<std::string> available_transports();

// One factory per transport file; make_transport() dispatches to them.
[[nodiscard]] std::unique_ptr<Transport> make_floor_transport();
[[nodiscard]] std::unique_ptr<Transport> make_posix_mq_transport();
[[nodiscard]] std::unique_ptr<Transport> make_uds_transport();
[[nodiscard]] std::unique_ptr<Transport> make_pipe_transport();
[[nodiscard]] std::unique_ptr<Transport> make_sysv_mq_transport();
[[nodiscard]] std::unique_ptr<Transport> make_boost_mq_transport();
#if SHMSNAP_BENCH_HAVE_LIBRARY
[[nodiscard]] std::unique_ptr<Transport> make_shmsnap_transport();
[[nodiscard]] std::unique_ptr<Transport> make_shmsnap_socket_transport();
#endif
#if SHMSNAP_BENCH_HAVE_ICEORYX
[[nodiscard]] std::unique_ptr<Transport> make_iceoryx_transport();
#endif
/// Transports this build left out and why (e.g. iceoryx without its package), to print.
[[nodiscard]] std::vector<std::string> skipped_transports();

}  // namespace shmsnap::bench
