// default_host_id, validate_host_id, host_key, origin_id_for.
#include "host_id.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "shmsnap/error.hpp"

namespace shmsnap::bridge {
namespace {

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

std::string default_host_id() {
  // machine-id is 32 lowercase hex digits; 12 of them (48 bits) keep a fleet's
  // hosts apart while leaving most of a key's length to the topic.
  std::ifstream file("/etc/machine-id");
  std::string machine_id;
  std::getline(file, machine_id);
  if (machine_id.size() >= 12 && std::all_of(machine_id.begin(), machine_id.begin() + 12,
                                             [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
    return machine_id.substr(0, 12);
  }
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') {
    std::string id(name);
    std::replace_if(
        id.begin(), id.end(), [](char c) { return !id_char(c); }, '-');
    return id.substr(0, max_host_id_length);
  }
  return "host";
}

void validate_host_id(std::string_view id) {
  if (id.empty() || id.size() > max_host_id_length || !std::all_of(id.begin(), id.end(), id_char)) {
    throw Error(Errc::invalid_argument,
                fmt::format("host id '{}': use 1..{} characters of [A-Za-z0-9_-] (no '.': it is one key token), "
                            "e.g. the hostname 'rack4-node2'",
                            id, max_host_id_length));
  }
}

std::string host_key(std::string_view host_id, std::string_view topic) {
  return fmt::format("{}.{}", host_id, topic);
}

std::uint64_t origin_id_for(std::string_view origin_host) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64: offset basis, then xor and multiply per byte
  for (const char c : origin_host) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  return hash == 0 ? 1 : hash;
}

}  // namespace shmsnap::bridge
