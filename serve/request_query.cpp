#include "request_query.hpp"

namespace shmsnap::serve {
namespace {

int hex_value(char character) {
  if (character >= '0' && character <= '9') {
    return character - '0';
  }
  if (character >= 'a' && character <= 'f') {
    return character - 'a' + 10;
  }
  if (character >= 'A' && character <= 'F') {
    return character - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t index = 0; index < text.size(); ++index) {
    if (text[index] == '%' && index + 2 < text.size()) {
      const int high = hex_value(text[index + 1]);
      const int low = hex_value(text[index + 2]);
      if (high >= 0 && low >= 0) {
        decoded.push_back(static_cast<char>(high * 16 + low));
        index += 2;
        continue;
      }
    }
    decoded.push_back(text[index] == '+' ? ' ' : text[index]);
  }
  return decoded;
}

std::map<std::string, std::string> query_parameters(std::string_view target) {
  std::map<std::string, std::string> parameters;
  const auto question = target.find('?');
  if (question == std::string_view::npos) {
    return parameters;
  }
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto equals = pair.find('=');
    parameters[percent_decode(pair.substr(0, equals))] =
        equals == std::string_view::npos ? std::string() : percent_decode(pair.substr(equals + 1));
    if (amp == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(amp + 1);
  }
  return parameters;
}

bool token_matches(std::string_view supplied, std::string_view token) noexcept {
  unsigned char difference = supplied.size() == token.size() ? 0 : 1;
  for (std::size_t index = 0; index < supplied.size(); ++index) {
    const char expected = token.empty() ? '\0' : token[index % token.size()];
    difference |= static_cast<unsigned char>(supplied[index] ^ expected);
  }
  return difference == 0 && !token.empty();
}

bool host_is_loopback(std::string_view host) noexcept {
  if (host.substr(0, 5) == "[::1]") {
    return host.size() == 5 || host[5] == ':';
  }
  const std::string_view name = host.substr(0, host.find(':'));
  if (name == "localhost") {
    return true;
  }
  // 127.0.0.0/8 as a dotted quad of digits.
  if (name.substr(0, 4) != "127.") {
    return false;
  }
  int dots = 0;
  for (const char character : name) {
    if (character == '.') {
      ++dots;
    } else if (character < '0' || character > '9') {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace shmsnap::serve
