#include "serve_options.hpp"

#include <algorithm>
#include <charconv>

#include <boost/asio/ip/address.hpp>

#include "shmsnap/error.hpp"

namespace shmsnap::serve {

Endpoint parse_endpoint(std::string_view text) {
  const auto fail = [&](std::string_view why) -> Endpoint {
    throw Error(Errc::invalid_argument, "address '" + std::string(text) + "': " + std::string(why) +
                                            "; give HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464");
  };
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fail("an IPv6 address needs the form [ADDRESS]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return fail("no port");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail("an IPv6 address must be in brackets");
    }
  }
  unsigned value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || error != std::errc() || end != port.data() + port.size() || value > 65535) {
    return fail("the port is not a number from 0 to 65535");
  }
  Endpoint endpoint{host.empty() ? "127.0.0.1" : std::string(host), static_cast<std::uint16_t>(value)};
  if (endpoint.host == "localhost") {
    endpoint.host = "127.0.0.1";
  }
  boost::system::error_code parse_error;
  (void)boost::asio::ip::make_address(endpoint.host, parse_error);
  if (parse_error) {
    return fail("the host is not a numeric IPv4 or IPv6 address");
  }
  return endpoint;
}

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

bool is_loopback(std::string_view host) {
  if (host == "localhost") {
    return true;
  }
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(std::string(host), error);
  return !error && address.is_loopback();
}

void validate(const Options& options) {
  for (const Endpoint* endpoint : {&options.listen, &options.foxglove_listen}) {
    if (endpoint == &options.foxglove_listen && !options.foxglove) {
      continue;
    }
    if (!options.allow_remote && !is_loopback(endpoint->host)) {
      throw Error(Errc::invalid_argument, "address " + endpoint->host +
                                              " is not loopback: other hosts could read every topic; pass "
                                              "--allow-remote (and preferably --token) to permit it");
    }
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
