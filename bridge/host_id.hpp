// Host ids: the token that keeps hosts apart in a shared bucket when one bridge
// exports every topic of a prefix (`export --all` puts topic T under "<host id>.T").
// Pure functions; callable from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shmsnap::bridge {

/// Longest host id: leaves room for a topic in a max_key_length key.
inline constexpr std::size_t max_host_id_length = 64;

/// This host's default id: the first 12 hex digits of /etc/machine-id (stable
/// across reboots and renames, unique per installation), else the hostname with
/// every character outside [A-Za-z0-9_-] replaced by '-' (dots too: the id is one
/// key token), else "host".
[[nodiscard]] std::string default_host_id();

/// Throws shmsnap::Error (invalid_argument) unless `id` is 1..max_host_id_length
/// characters of [A-Za-z0-9_-]: one NATS subject token without wildcards.
void validate_host_id(std::string_view id);

/// "<host id>.<topic>": the key under which `export --all` puts `topic`.
[[nodiscard]] std::string host_key(std::string_view host_id, std::string_view topic);

/// The origin id an importer stamps into the regions it republishes from the host
/// named `origin_host` (the envelope's origin host): a 64-bit FNV-1a hash of the
/// name, never 0, since 0 means "this host's own topic" (PublisherOptions::origin_id).
[[nodiscard]] std::uint64_t origin_id_for(std::string_view origin_host) noexcept;

}  // namespace shmsnap::bridge
