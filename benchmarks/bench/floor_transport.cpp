// The floor: the cheapest cross-process signal there is. The publisher writes
// (sequence, check, publish time, flags) into one shared cache line; each subscriber
// spins on it and, having read it, writes its ack into its own line. It moves no
// payload, so at large sizes the gap to it is the cost of copying the payload.
// Paced runs do not wait for acks (a late subscriber just sees the newest line); max
// runs do, so the throughput is a true ping-pong rate.
//
//   offset 0            publisher line: version | seq | check | publish_ns | flags
//   offset 64 * (1+i)   ack line of subscriber i: last seq read
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "bench/aligned_buffer.hpp"
#include "bench/cleanup.hpp"
#include "bench/clock.hpp"
#include "bench/payload.hpp"
#include "bench/transport.hpp"

namespace shmsnap::bench {
namespace {

struct alignas(64) SignalLine {
  std::atomic<std::uint64_t> version;  // odd while the publisher writes the fields
  std::atomic<std::uint64_t> seq;
  std::atomic<std::uint64_t> check;
  std::atomic<std::int64_t> publish_ns;
  std::atomic<std::uint64_t> flags;
};

struct alignas(64) AckLine {
  std::atomic<std::uint64_t> seq;
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the floor needs lock-free 64-bit atomics");
static_assert(sizeof(SignalLine) == 64 && sizeof(AckLine) == 64);

std::size_t region_bytes(int subscribers) {
  return sizeof(SignalLine) + sizeof(AckLine) * static_cast<std::size_t>(subscribers);
}

std::string region_name(const ChannelSpec& spec) {
  return "/" + spec.run_name + ".floor";
}

// The shared region; created zeroed by ftruncate, so every atomic starts at 0.
class Mapping {
 public:
  Mapping(const std::string& name, int subscribers, bool create) : size_(region_bytes(subscribers)) {
    const int fd = shm_open(name.c_str(), (create ? O_CREAT | O_EXCL : 0) | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
      throw std::runtime_error("shm_open(" + name + "): " + std::strerror(errno));
    if (create && ftruncate(fd, static_cast<off_t>(size_)) != 0) {
      const int error = errno;
      close(fd);
      throw std::runtime_error("ftruncate(" + name + "): " + std::strerror(error));
    }
    void* base = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
      throw std::runtime_error("mmap(" + name + "): " + std::strerror(errno));
    base_ = static_cast<std::byte*>(base);
  }
  ~Mapping() { munmap(base_, size_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  SignalLine& signal() noexcept { return *reinterpret_cast<SignalLine*>(base_); }
  AckLine& ack(int index) noexcept {
    return *reinterpret_cast<AckLine*>(base_ + sizeof(SignalLine) + sizeof(AckLine) * static_cast<std::size_t>(index));
  }

 private:
  std::size_t size_;
  std::byte* base_ = nullptr;
};

class FloorPublisher final : public PublisherChannel {
 public:
  explicit FloorPublisher(const ChannelSpec& spec)
      : name_(region_name(spec)),
        tracked_(track(name_)),
        mapping_(name_, spec.subscribers, true),
        buffer_(spec.payload_bytes),
        subscribers_(spec.subscribers),
        wait_for_acks_(spec.max_rate) {}

  ~FloorPublisher() override {
    shm_unlink(name_.c_str());
    cleanup::untrack(cleanup::NameKind::shm, name_);
  }

  std::span<std::byte> buffer() noexcept override { return buffer_.span(); }
  std::string endpoint(int /*index*/) const override { return name_; }

  bool publish(DeadlineNs deadline) noexcept override {
    MessageHeader header;
    std::memcpy(&header, buffer_.data(), sizeof header);
    if (wait_for_acks_ && !wait_for_acks(header.seq - 1, deadline))
      return false;
    SignalLine& line = mapping_.signal();
    const std::uint64_t version = line.version.load(std::memory_order_relaxed);
    line.version.store(version + 1, std::memory_order_relaxed);
    // Pairs with the reader's acquire fence: a reader that sees any new field also sees the odd version.
    std::atomic_thread_fence(std::memory_order_release);
    line.seq.store(header.seq, std::memory_order_relaxed);
    line.check.store(header.check, std::memory_order_relaxed);
    line.publish_ns.store(header.publish_ns, std::memory_order_relaxed);
    line.flags.store(header.flags, std::memory_order_relaxed);
    // Pairs with the reader's acquire load of version.
    line.version.store(version + 2, std::memory_order_release);
    return true;
  }

  std::string last_error() const override { return error_; }

 private:
  static bool track(const std::string& name) {
    cleanup::track(cleanup::NameKind::shm, name);
    return true;
  }

  bool wait_for_acks(std::uint64_t seq, DeadlineNs deadline) noexcept {
    for (int index = 0; index < subscribers_; ++index) {
      std::uint32_t spins = 0;
      // Pairs with the subscriber's release store of its ack.
      while (mapping_.ack(index).seq.load(std::memory_order_acquire) < seq) {
        cpu_relax();
        if ((++spins & 0xFFFU) == 0 && monotonic_ns() > deadline) {
          error_ = "subscriber " + std::to_string(index) + " stopped acknowledging";
          return false;
        }
      }
    }
    return true;
  }

  std::string name_;
  bool tracked_;
  Mapping mapping_;
  AlignedBuffer buffer_;
  int subscribers_;
  bool wait_for_acks_;
  std::string error_;
};

class FloorSubscriber final : public SubscriberChannel {
 public:
  FloorSubscriber(const ChannelSpec& spec, int index, const std::string& name)
      : mapping_(name, spec.subscribers, false), index_(index) {}

  ReceiveStatus receive(const MessageSink& sink, DeadlineNs deadline) override {
    SignalLine& line = mapping_.signal();
    std::uint32_t spins = 0;
    for (;;) {
      // Pairs with the publisher's final release store of version.
      const std::uint64_t before = line.version.load(std::memory_order_acquire);
      if (before != seen_version_ && (before & 1U) == 0) {
        MessageHeader header{.seq = line.seq.load(std::memory_order_relaxed),
                             .check = line.check.load(std::memory_order_relaxed),
                             .publish_ns = line.publish_ns.load(std::memory_order_relaxed),
                             .flags = line.flags.load(std::memory_order_relaxed)};
        // Pairs with the publisher's release fence after it made version odd.
        std::atomic_thread_fence(std::memory_order_acquire);
        if (line.version.load(std::memory_order_relaxed) == before) {
          const std::int64_t received_ns = monotonic_ns();
          seen_version_ = before;
          std::byte bytes[sizeof header];
          std::memcpy(bytes, &header, sizeof header);
          sink(std::span<const std::byte>(bytes, sizeof bytes), received_ns);
          // Pairs with the publisher's acquire load in wait_for_acks().
          mapping_.ack(index_).seq.store(header.seq, std::memory_order_release);
          return ReceiveStatus::delivered;
        }
        ++retries_;
        continue;
      }
      cpu_relax();
      if ((++spins & 0xFFFU) == 0 && monotonic_ns() > deadline)
        return ReceiveStatus::timed_out;
    }
  }

  std::uint64_t retries() const noexcept override { return retries_; }

 private:
  Mapping mapping_;
  int index_;
  std::uint64_t seen_version_ = 0;
  std::uint64_t retries_ = 0;
};

class FloorTransport final : public Transport {
 public:
  std::string_view name() const noexcept override { return "floor"; }
  std::vector<std::string> modes(std::span<const std::string>) const override { return {"spin"}; }
  std::optional<std::string> not_applicable(const ChannelSpec&) const override { return std::nullopt; }
  bool busy_waits(std::string_view) const noexcept override { return true; }
  std::unique_ptr<PublisherChannel> create_publisher(const ChannelSpec& spec) const override {
    return std::make_unique<FloorPublisher>(spec);
  }
  std::unique_ptr<SubscriberChannel> open_subscriber(const ChannelSpec& spec, int index,
                                                     const std::string& endpoint) const override {
    return std::make_unique<FloorSubscriber>(spec, index, endpoint);
  }
};

}  // namespace

std::unique_ptr<Transport> make_floor_transport() {
  return std::make_unique<FloorTransport>();
}

}  // namespace shmsnap::bench
