#include "transport/admission_policy.hpp"

#include <algorithm>
#include <fstream>

#include "shmsnap/region.hpp"

namespace shmsnap::detail {
namespace {

// The uid the kernel shows for a user outside this user namespace's map.
uid_t overflow_uid() {
  std::ifstream file("/proc/sys/kernel/overflowuid");
  unsigned long value = 65534;
  file >> value;
  return static_cast<uid_t>(value);
}

}  // namespace

bool AdmissionPolicy::admits(const PeerCredentials& peer, uid_t own_uid) const noexcept {
  return peer.uid == 0 || peer.uid == own_uid || std::find(uids.begin(), uids.end(), peer.uid) != uids.end() ||
         std::find(gids.begin(), gids.end(), peer.gid) != gids.end();
}

std::string AdmissionPolicy::refusal(const PeerCredentials& peer) const {
  std::string who = "user " + user_name(peer.uid) + " with primary group " + std::to_string(peer.gid);
  if (peer.pid > 0) {
    who += ", pid " + std::to_string(peer.pid);
  }
  // The hint first: a REJECTED text is cut at attach_max_reason_length, and a long
  // list of admitted ids must not push the way out of it.
  std::string text = "not admitted: " + who + "; admit it with --allow-uid " + std::to_string(peer.uid) +
                     " or --allow-gid " + std::to_string(peer.gid) + " (this publisher admits root, its own user";
  for (const uid_t uid : uids) {
    text += ", uid " + std::to_string(uid);
  }
  for (const gid_t gid : gids) {
    text += ", gid " + std::to_string(gid);
  }
  text += ")";
  if (peer.uid == overflow_uid()) {
    text += "; uid " + std::to_string(peer.uid) +
            " may be a user this user namespace does not map: map it, or admit the overflow uid";
  }
  return text;
}

}  // namespace shmsnap::detail
