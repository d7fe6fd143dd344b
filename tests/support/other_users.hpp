// Running a test's child process as another user (root tests only): the users and
// groups the permission and hostile-user tests use, and the setpriv command line.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace shmsnap::test {

// Users and groups of a Debian base image: `nobody`/`nogroup` exist everywhere;
// 1000 and 103 are only ids here (no names needed), chosen to be neither root nor nobody.
inline constexpr uid_t other_user = 65534;
inline constexpr gid_t other_group = 65534;
inline constexpr uid_t publisher_user = 1000;
inline constexpr gid_t shared_group = 103;

inline bool running_as_root() {
  return geteuid() == 0;
}

/// argv that runs `command` as uid:gid with exactly `groups` as supplementary groups.
inline std::vector<std::string> as_user(uid_t uid, gid_t gid, const std::vector<gid_t>& groups,
                                        std::vector<std::string> command) {
  std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=" + std::to_string(uid), "--regid=" + std::to_string(gid)};
  if (groups.empty()) {
    argv.emplace_back("--clear-groups");
  } else {
    std::string list;
    for (const gid_t group : groups) {
      list += (list.empty() ? "" : ",") + std::to_string(group);
    }
    argv.emplace_back("--groups=" + list);
  }
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

}  // namespace shmsnap::test
