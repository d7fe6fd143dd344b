// What one HTTP listener and its sessions share: the bounds on a client, the
// counters and the connection slot a session holds. Used on the listener's I/O
// thread; the counters are atomics, so a scrape may read them from anywhere.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace shmsnap::http {

/// Bounds that keep one HTTP client from costing the server more than its share.
struct Limits {
  std::size_t max_header_bytes = 8 * 1024;  ///< request line + headers
  std::size_t max_connections = 64;         ///< clients at once, per listener
  std::chrono::seconds header_timeout{10};  ///< a request's headers must arrive within this
  std::chrono::seconds idle_timeout{60};    ///< keep-alive connection without a request
  std::chrono::seconds write_timeout{10};   ///< one response or push write must drain within this
};

/// Counters of a listener and its sessions, updated on the I/O thread and read by
/// the scrape (relaxed: they are statistics).
struct Stats {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_refused{0};  ///< over the connection limit
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bad_requests{0};          ///< unparsable, oversized or not allowed
  std::atomic<std::uint64_t> unauthorized{0};          ///< missing or wrong token
  std::atomic<std::uint64_t> slow_clients_dropped{0};  ///< send buffer over the limit or write timeout
};

/// Holds one of a listener's connection places for as long as a session lives.
class ConnectionSlot {
 public:
  ConnectionSlot(std::shared_ptr<std::size_t> open, Stats& stats) : open_(std::move(open)), stats_(&stats) {
    ++*open_;
    stats_->connections_open.fetch_add(1, std::memory_order_relaxed);
  }
  ~ConnectionSlot() {
    if (open_) {
      --*open_;
      stats_->connections_open.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  ConnectionSlot(ConnectionSlot&& other) noexcept : open_(std::move(other.open_)), stats_(other.stats_) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::shared_ptr<std::size_t> open_;
  Stats* stats_;
};

}  // namespace shmsnap::http
