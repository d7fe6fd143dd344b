// An HTTP endpoint of a shmsnap program ("host:port" on the command line) and the
// loopback rule every listener follows. Parsed once at startup on the calling
// thread; pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shmsnap::http {

/// An IPv4/IPv6 address and a TCP port, as given on the command line.
struct Endpoint {
  std::string host;        ///< "127.0.0.1", "::1", "0.0.0.0"
  std::uint16_t port = 0;  ///< 0 = the kernel picks a free port (tests)
};

/// Parses "host:port", "[v6]:port" or ":port" (loopback). Throws Error{invalid_argument}
/// naming the text and the expected form.
[[nodiscard]] Endpoint parse_endpoint(std::string_view text);

/// True for 127.0.0.0/8 and ::1 (and "localhost").
[[nodiscard]] bool is_loopback(std::string_view host);

/// Throws Error{invalid_argument} when `endpoint` is not loopback and `allow_remote`
/// is false: other hosts could read every topic. The message names the address and
/// the flag that permits it.
void require_loopback_unless_allowed(const Endpoint& endpoint, bool allow_remote);

}  // namespace shmsnap::http
