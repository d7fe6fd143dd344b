// Binary framing of SubscriberReport over a pipe (see subscriber_report.hpp). Both ends
// are the same binary, so the header is sent as raw bytes; a magic word catches a
// child that died half-way or printed garbage.
#include "bench/subscriber_report.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bench/clock.hpp"

namespace shmsnap::bench {
namespace {

constexpr std::uint64_t report_magic = 0x73686d736e617062ULL;  // "shmsnapb"

struct WireHeader {
  std::uint64_t magic;
  std::uint64_t received, skipped, retries, torn;
  std::int64_t first_receive_ns, last_receive_ns;
  std::uint64_t latency_count;
  std::uint64_t status_length;
};

bool write_all(int fd, const void* data, std::size_t size) noexcept {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t written = write(fd, bytes, size);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    bytes += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

bool read_all(int fd, void* data, std::size_t size, std::int64_t deadline_ns) noexcept {
  auto* bytes = static_cast<char*>(data);
  while (size > 0) {
    const std::int64_t left_ms = (deadline_ns - monotonic_ns()) / 1'000'000;
    if (left_ms < 0)
      return false;
    pollfd waiter{.fd = fd, .events = POLLIN, .revents = 0};
    const int ready = poll(&waiter, 1, static_cast<int>(std::min<std::int64_t>(left_ms + 1, 1000)));
    if (ready < 0 && errno != EINTR)
      return false;
    if (ready <= 0)
      continue;
    const ssize_t got = read(fd, bytes, size);
    if (got == 0)
      return false;
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      return false;
    }
    bytes += got;
    size -= static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace

bool write_report(int fd, const SubscriberReport& report) noexcept {
  const WireHeader header{.magic = report_magic,
                          .received = report.received,
                          .skipped = report.skipped,
                          .retries = report.retries,
                          .torn = report.torn,
                          .first_receive_ns = report.first_receive_ns,
                          .last_receive_ns = report.last_receive_ns,
                          .latency_count = report.latencies_ns.size(),
                          .status_length = report.status.size()};
  return write_all(fd, &header, sizeof header) && write_all(fd, report.status.data(), report.status.size()) &&
         write_all(fd, report.latencies_ns.data(), report.latencies_ns.size() * sizeof(std::int64_t));
}

bool read_ready(int fd, std::int64_t deadline_ns) noexcept {
  char byte = 0;
  return read_all(fd, &byte, 1, deadline_ns) && byte == ready_byte;
}

std::optional<SubscriberReport> read_report(int fd, std::int64_t deadline_ns) {
  WireHeader header{};
  if (!read_all(fd, &header, sizeof header, deadline_ns) || header.magic != report_magic)
    return std::nullopt;
  // A sane bound rejects a corrupt count before it becomes a huge allocation.
  if (header.latency_count > (1ULL << 28) || header.status_length > 4096)
    return std::nullopt;
  SubscriberReport report;
  report.received = header.received;
  report.skipped = header.skipped;
  report.retries = header.retries;
  report.torn = header.torn;
  report.first_receive_ns = header.first_receive_ns;
  report.last_receive_ns = header.last_receive_ns;
  report.status.resize(header.status_length);
  report.latencies_ns.resize(header.latency_count);
  if (!read_all(fd, report.status.data(), report.status.size(), deadline_ns) ||
      !read_all(fd, report.latencies_ns.data(), report.latencies_ns.size() * sizeof(std::int64_t), deadline_ns)) {
    return std::nullopt;
  }
  return report;
}

}  // namespace shmsnap::bench
