// Which web pages may read this server's data: the Origin check of the data
// routes, the event stream and the Foxglove WebSocket upgrade. A browser sends
// Origin on every WebSocket upgrade and EventSource request, and a WebSocket has
// no CORS: without this check any site open in the operator's browser could read
// every topic live. Built once at startup; allows() is pure (any thread).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shmsnap::serve {

class OriginPolicy {
 public:
  /// Allows no Origin (curl, the Foxglove npm client), the page of the host a
  /// request is addressed to (Origin equal to http:// + its Host header),
  /// http://localhost:P, http://127.0.0.1:P and http://[::1]:P for each of `ports`,
  /// and each of `allowed` exactly (an --allow-origin given by the operator).
  OriginPolicy(std::vector<std::string> allowed, const std::vector<std::uint16_t>& ports);
  OriginPolicy() = default;

  /// True when a request with this Origin header ("" = none) and Host header may
  /// read data. Never throws.
  [[nodiscard]] bool allows(std::string_view origin, std::string_view host) const noexcept;

 private:
  std::vector<std::string> allowed_;  // lower case
};

}  // namespace shmsnap::serve
