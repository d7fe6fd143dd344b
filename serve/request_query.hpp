// What a request's target and headers carry that the routes read: query
// parameters (percent-decoded) and the token comparison. Pure functions of client
// input that never throw for any bytes (fuzzed: tests/fuzz/serve_fuzzers.cmake); any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace shmsnap::serve {

/// `text` with %XX sequences decoded and '+' as a space; malformed escapes stay as they are.
[[nodiscard]] std::string percent_decode(std::string_view text);

/// The query parameters of `target` (after '?'), percent-decoded; later keys win.
[[nodiscard]] std::map<std::string, std::string> query_parameters(std::string_view target);

/// True when `supplied` equals `token`, in time independent of where they differ.
[[nodiscard]] bool token_matches(std::string_view supplied, std::string_view token) noexcept;

/// True when a Host header names a loopback address: "127.x.y.z", "localhost" or
/// "[::1]", with or without ":port".
[[nodiscard]] bool host_is_loopback(std::string_view host) noexcept;

}  // namespace shmsnap::serve
