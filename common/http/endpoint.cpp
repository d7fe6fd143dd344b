#include "endpoint.hpp"

#include <charconv>

#include <boost/asio/ip/address.hpp>

#include "shmsnap/error.hpp"

namespace shmsnap::http {

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

bool is_loopback(std::string_view host) {
  if (host == "localhost") {
    return true;
  }
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(std::string(host), error);
  return !error && address.is_loopback();
}

void require_loopback_unless_allowed(const Endpoint& endpoint, bool allow_remote) {
  if (!allow_remote && !is_loopback(endpoint.host)) {
    throw Error(Errc::invalid_argument, "address " + endpoint.host +
                                            " is not loopback: other hosts could read every topic; pass "
                                            "--allow-remote (and preferably --token) to permit it");
  }
}

}  // namespace shmsnap::http
