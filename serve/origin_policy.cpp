#include "origin_policy.hpp"

#include <algorithm>
#include <string>

namespace shmsnap::serve {
namespace {

// Scheme and host compare case-insensitively (RFC 6454 serialises them in lower case).
bool same_text(std::string_view left, std::string_view right) noexcept {
  return left.size() == right.size() && std::equal(left.begin(), left.end(), right.begin(), [](char a, char b) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(a) == lower(b);
         });
}

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

}  // namespace

OriginPolicy::OriginPolicy(std::vector<std::string> allowed, const std::vector<std::uint16_t>& ports) {
  for (const std::string& origin : allowed) {
    allowed_.push_back(lowered(origin));
  }
  for (const std::uint16_t port : ports) {
    for (const char* host : {"localhost", "127.0.0.1", "[::1]"}) {
      allowed_.push_back("http://" + std::string(host) + ":" + std::to_string(port));
    }
  }
}

bool OriginPolicy::allows(std::string_view origin, std::string_view host) const noexcept {
  if (origin.empty()) {
    return true;  // not a browser (or a same-origin GET, which browsers send without Origin)
  }
  constexpr std::string_view http = "http://";
  if (!host.empty() && origin.size() == http.size() + host.size() && same_text(origin.substr(0, http.size()), http) &&
      same_text(origin.substr(http.size()), host)) {
    return true;  // the page this server itself served
  }
  return std::any_of(allowed_.begin(), allowed_.end(),
                     [origin](const std::string& allowed) { return same_text(origin, allowed); });
}

}  // namespace shmsnap::serve
