#include "serve_options.hpp"

#include <algorithm>

#include "shmsnap/error.hpp"

namespace shmsnap::serve {

void validate_origin(std::string_view origin) {
  const auto scheme_end = origin.find("://");
  const std::string_view rest =
      scheme_end == std::string_view::npos ? std::string_view() : origin.substr(scheme_end + 3);
  const bool printable = std::all_of(origin.begin(), origin.end(), [](char c) { return c > ' ' && c <= '~'; });
  if (scheme_end == std::string_view::npos || scheme_end == 0 || rest.empty() || !printable ||
      rest.find_first_of("/?#*") != std::string_view::npos) {
    throw Error(Errc::invalid_argument, "--allow-origin '" + std::string(origin) +
                                            "': give the page's origin as the browser sends it, SCHEME://HOST[:PORT] "
                                            "without a path, e.g. https://dashboard.example:8443");
  }
}

void validate(const Options& options) {
  for (const Endpoint* endpoint : {&options.listen, &options.foxglove_listen}) {
    if (endpoint == &options.foxglove_listen && !options.foxglove) {
      continue;
    }
    http::require_loopback_unless_allowed(*endpoint, options.allow_remote);
  }
  for (const char character : options.token) {
    if (character <= ' ' || character > '~') {
      throw Error(Errc::invalid_argument,
                  "--token: only printable ASCII without spaces is allowed (it travels in an HTTP header)");
    }
  }
  for (const std::string& origin : options.allow_origins) {
    validate_origin(origin);
  }
}

}  // namespace shmsnap::serve
