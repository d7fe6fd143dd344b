// What a subscriber process sends back to the orchestrator over its result pipe: a
// one-byte "attached" signal, then at the end one report (fixed header, status text,
// raw latency samples). Each side is used by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shmsnap::bench {

/// Everything one subscriber measured in one configuration.
struct SubscriberReport {
  std::string status = "ok";               ///< "ok", or what went wrong ("timeout: ...", "error: ...")
  std::vector<std::int64_t> latencies_ns;  ///< one per measured delivery, in arrival order
  std::uint64_t received = 0;              ///< measured deliveries (== latencies_ns.size())
  std::uint64_t skipped = 0;               ///< measured sequences never delivered (coalesced)
  std::uint64_t retries = 0;               ///< seqlock read retries reported by the transport
  std::uint64_t torn = 0;                  ///< deliveries whose self-check failed
  std::int64_t first_receive_ns = 0;       ///< first measured delivery
  std::int64_t last_receive_ns = 0;        ///< last measured delivery
};

/// The byte a subscriber writes once it is attached and ready for the first message.
inline constexpr char ready_byte = 'R';

/// Writes `report` to `fd` (blocking). False on a write error.
bool write_report(int fd, const SubscriberReport& report) noexcept;

/// Reads one byte from `fd` and checks that it is ready_byte; false on EOF, another
/// byte or the deadline (monotonic ns).
bool read_ready(int fd, std::int64_t deadline_ns) noexcept;

/// Reads one report from `fd`; nullopt on EOF, a malformed report or the deadline.
[[nodiscard]] std::optional<SubscriberReport> read_report(int fd, std::int64_t deadline_ns);

}  // namespace shmsnap::bench
