// libFuzzer target: what clients of `shmsnap serve` send. The first byte picks the
// parser: a Foxglove client text frame (foxglove::parse_client_message), or HTTP
// request bytes through Beast's request parser with the server's limits and then
// the query parsing of its target (query_parameters, percent_decode) and the
// Origin check (OriginPolicy). Properties:
// never a crash or an exception; a parsed subscribe never carries more than the
// per-message bound; every byte-for-byte decoded key and value is no longer than its input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "foxglove_protocol.hpp"
#include "origin_policy.hpp"
#include "request_query.hpp"

namespace {

void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

void fuzz_http(std::string_view bytes) {
  namespace http = boost::beast::http;
  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(1024);
  parser.eager(true);
  boost::beast::error_code error;
  std::size_t used = 0;
  while (used < bytes.size() && !parser.is_done()) {
    const std::size_t consumed = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), error);
    if (error == http::error::need_more) {
      return;
    }
    if (error) {
      return;
    }
    if (consumed == 0) {
      return;
    }
    used += consumed;
  }
  if (!parser.is_header_done()) {
    return;
  }
  const auto target = parser.get().target();
  const std::string_view text(target.data(), target.size());
  for (const auto& [key, value] : shmsnap::serve::query_parameters(text)) {
    require(key.size() <= text.size() && value.size() <= text.size());
  }
  const auto host = parser.get()[http::field::host];
  (void)shmsnap::serve::host_is_loopback(std::string_view(host.data(), host.size()));
  // The Origin check never throws, and allows every request without an Origin.
  static const shmsnap::serve::OriginPolicy origins({"https://dash.example"}, {9464});
  const auto origin = parser.get()[http::field::origin];
  const std::string_view origin_text(origin.data(), origin.size());
  const bool allowed = origins.allows(origin_text, std::string_view(host.data(), host.size()));
  require(allowed || !origin_text.empty());
  const auto authorization = parser.get()[http::field::authorization];
  (void)shmsnap::serve::token_matches(std::string_view(authorization.data(), authorization.size()), "token");
}

void fuzz_foxglove(std::string_view bytes) {
  const auto message = shmsnap::serve::foxglove::parse_client_message(bytes);
  require(message.subscriptions.size() <= shmsnap::serve::foxglove::max_subscriptions_per_message);
  require(message.subscription_ids.size() <= shmsnap::serve::foxglove::max_subscriptions_per_message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    fuzz_http(bytes);
  } else {
    fuzz_foxglove(bytes);
  }
  return 0;
}
