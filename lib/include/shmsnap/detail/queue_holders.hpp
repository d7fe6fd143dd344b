// Which processes hold which POSIX message queues open, read from /proc/<pid>/fd.
// The subscriber uses it to tell a live owner of its queue from a dead one; the
// operator tool shows it (admin::scan_queue_holders). Any thread.
#pragma once

#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace shmsnap::detail {

/// MQUEUE_MAGIC of the kernel's include/uapi/linux/magic.h (the userspace copy lacks it).
inline constexpr long mqueue_magic = 0x19800202;

/// The link of an mqueue descriptor reads "/<queue name>" (verified on Linux 5.x/6.x)
/// and its filesystem is mqueue, which tells it from a regular file at the root.
struct QueueHolders {
  std::map<std::string, std::vector<pid_t>> holders;  ///< queue name ("/x") -> pids
  std::set<uid_t> unreadable_uids;                    ///< owners of processes whose descriptors we may not read

  /// Pids holding `name` open (empty when none was seen).
  [[nodiscard]] std::vector<pid_t> of(const std::string& name) const;
  /// True when "nobody holds it" is a proof for a queue owned by `owner`: every
  /// process that could be its creator (same uid) had readable descriptors.
  [[nodiscard]] bool conclusive_for(uid_t owner) const noexcept;
};

/// Scans /proc once. Never throws for a process that exits meanwhile; throws
/// Error when /proc is not mounted.
[[nodiscard]] QueueHolders scan_queue_holders();

}  // namespace shmsnap::detail
