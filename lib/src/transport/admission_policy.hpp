// Who may attach to a topic in socket mode: the publisher checks each connection's
// peer credentials (SO_PEERCRED) against this before it reads a HELLO's descriptor.
// Pure; any thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "transport/unix_socket.hpp"

namespace shmsnap::detail {

struct AdmissionPolicy {
  std::vector<uid_t> uids;  ///< admitted users besides the publisher's own and root (--allow-uid)
  std::vector<gid_t> gids;  ///< admitted primary groups (--allow-gid)

  /// True when `peer` runs as root, as `own_uid`, as a listed uid, or with a
  /// listed primary group.
  [[nodiscard]] bool admits(const PeerCredentials& peer, uid_t own_uid) const noexcept;

  /// Why `peer` is refused, naming it and the options that would admit it, in the
  /// uids and gids this process's user namespace sees (an unmapped peer shows as
  /// the overflow uid, usually 65534, and the message says so). For REJECTED texts
  /// and the publisher's log.
  [[nodiscard]] std::string refusal(const PeerCredentials& peer) const;
};

}  // namespace shmsnap::detail
