// The blocking calls of the queue and fd baselines (mq_send, msgrcv, send, recv, write,
// read), retried the one way they all need: the deadline alarm (deadline_alarm.hpp)
// interrupts a blocked call with EINTR, and the call is retried until the deadline has
// passed. Also writing or reading a whole payload over a byte stream, and the end of a
// receive (the sink call). The loops are inline so that the latency path costs what a
// hand-written loop costs; only the failure texts live in blocking_io.cpp. Any thread.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "bench/clock.hpp"
#include "bench/transport.hpp"

namespace shmsnap::bench {

/// How a blocking call ended once its EINTR retries were over.
enum class CallOutcome {
  done,             ///< the call succeeded
  peer_closed,      ///< a stream or socket read 0 bytes: the other end hung up
  deadline_passed,  ///< interrupted after the deadline
  failed,           ///< another errno
};

/// The result of one blocking call (or of a write-all / read-all).
struct CallResult {
  CallOutcome outcome = CallOutcome::done;
  std::size_t bytes = 0;  ///< what the call returned (bytes moved), when done
  int error = 0;          ///< the errno, when failed
};

/// Calls `call` (a syscall returning a count >= 0, or -1 with errno) again after each
/// EINTR until it succeeds or fails otherwise; an EINTR after `deadline` ends it too.
template <typename Call>
[[nodiscard]] CallResult retry_interrupted(Call&& call, DeadlineNs deadline) noexcept {
  for (;;) {
    const auto returned = call();
    if (returned >= 0)
      return {.outcome = CallOutcome::done, .bytes = static_cast<std::size_t>(returned)};
    const int error = errno;
    if (error != EINTR)
      return {.outcome = CallOutcome::failed, .error = error};
    if (monotonic_ns() > deadline)
      return {.outcome = CallOutcome::deadline_passed};
  }
}

/// A receive on a connected socket that returned 0 bytes: the peer hung up.
[[nodiscard]] inline CallResult closed_if_empty(CallResult received) noexcept {
  if (received.outcome == CallOutcome::done && received.bytes == 0)
    received.outcome = CallOutcome::peer_closed;
  return received;
}

/// Writes all of `bytes` to `fd`, however many write() calls a stream needs.
[[nodiscard]] inline CallResult write_all(int fd, std::span<const std::byte> bytes, DeadlineNs deadline) noexcept {
  while (!bytes.empty()) {
    const CallResult written = retry_interrupted([&] { return write(fd, bytes.data(), bytes.size()); }, deadline);
    if (written.outcome != CallOutcome::done)
      return written;
    bytes = bytes.subspan(written.bytes);
  }
  return {};
}

/// Fills all of `bytes` from `fd`, however many read() calls a stream needs.
[[nodiscard]] inline CallResult read_all(int fd, std::span<std::byte> bytes, DeadlineNs deadline) noexcept {
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    const CallResult got = closed_if_empty(
        retry_interrupted([&] { return read(fd, bytes.data() + filled, bytes.size() - filled); }, deadline));
    if (got.outcome != CallOutcome::done)
      return got;
    filled += got.bytes;
  }
  return {.bytes = filled};
}

/// The last_error() text of a call that did not succeed: "<call>: deadline passed",
/// "<call>: <strerror>", or "publisher closed the <endpoint_kind>" (a pipe, a socket).
[[nodiscard]] std::string describe_failure(const CallResult& result, std::string_view call,
                                           std::string_view endpoint_kind = "channel");

/// Publisher side: sends to every target in order with `send_one(target)` (which
/// returns a CallResult) and stops at the first that fails, describing it in `error`.
template <typename Targets, typename SendOne>
[[nodiscard]] bool send_to_each(const Targets& targets, std::string_view call, std::string& error,
                                SendOne&& send_one) noexcept {
  for (const auto& target : targets) {
    const CallResult sent = send_one(target);
    if (sent.outcome != CallOutcome::done) {
      error = describe_failure(sent, call);
      return false;
    }
  }
  return true;
}

/// Subscriber side, after the receive call: hands the first `received.bytes` bytes of
/// `buffer` to `sink`, timestamped right after the copy-out. A failure is described in
/// `error`; a timeout leaves it alone.
[[nodiscard]] inline ReceiveStatus deliver(const CallResult& received, std::span<const std::byte> buffer,
                                           const MessageSink& sink, std::string_view call,
                                           std::string_view endpoint_kind, std::string& error) {
  switch (received.outcome) {
    case CallOutcome::done:
      sink(buffer.first(received.bytes), monotonic_ns());
      return ReceiveStatus::delivered;
    case CallOutcome::deadline_passed:
      return ReceiveStatus::timed_out;
    case CallOutcome::peer_closed:
    case CallOutcome::failed:
      break;
  }
  error = describe_failure(received, call, endpoint_kind);
  return ReceiveStatus::failed;
}

}  // namespace shmsnap::bench
