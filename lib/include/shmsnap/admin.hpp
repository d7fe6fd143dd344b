// Discovery and cleanup of shmsnap's OS resources, for the `shmsnap` admin CLI and
// for operators' scripts: what lies in /dev/shm, the mqueue namespace and a socket
// directory, who holds which queue open, whether a region's publisher is alive, and
// removal of what provably belongs to dead processes. Reader-only except remove_*/clean. Any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "shmsnap/detail/queue_holders.hpp"

namespace shmsnap::admin {

/// How to get the mqueue namespace visible as files, for messages when it is not.
inline constexpr std::string_view mqueue_mount_hint = "mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue";

/// A region that fails validation is garbage only once it is older than this: a
/// publisher between shm_open and its first header store looks the same.
inline constexpr double garbage_age_seconds = 5.0;

/// One named object in /dev/shm or /dev/mqueue.
struct ObjectInfo {
  std::string name;        ///< "/<name>", as shm_open / mq_open take it
  std::string path;        ///< "/dev/shm/<name>" or "/dev/mqueue/<name>"
  std::uint64_t size = 0;  ///< shm: file size; mqueue: bytes queued (QSIZE)
  mode_t mode = 0;         ///< permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  ino_t inode = 0;
  std::int64_t modified_realtime_ns = 0;
};

/// Objects in /dev/shm whose name starts with `starts_with` (no leading '/'), by name.
/// Throws Error when /dev/shm cannot be read.
[[nodiscard]] std::vector<ObjectInfo> list_shm(std::string_view starts_with = {});
/// One /dev/shm object by its shm name ("/x"). Throws Error: invalid_argument, not_found.
[[nodiscard]] ObjectInfo stat_shm(std::string_view name);
/// shm_unlink(name). True when it existed; throws Error on any other failure.
bool remove_shm(std::string_view name);

/// True when /dev/mqueue is an mqueue filesystem (so queues can be listed).
[[nodiscard]] bool mqueue_mounted() noexcept;
/// Queues in /dev/mqueue whose name starts with `starts_with`, by name. Throws
/// Error{not_found} with mqueue_mount_hint when /dev/mqueue is not mounted.
[[nodiscard]] std::vector<ObjectInfo> list_mqueues(std::string_view starts_with = {});
/// One queue's file in /dev/mqueue. Throws Error (not_found also when not mounted).
[[nodiscard]] ObjectInfo stat_mqueue(std::string_view name);

/// Which processes hold which message queues open (see detail/queue_holders.hpp).
using detail::QueueHolders;
using detail::scan_queue_holders;

/// What a look at a region file (without mapping it for reading) tells.
struct RegionProbe {
  std::string name;  ///< "/<prefix>:<topic>"
  bool exists = false;
  bool inspectable = true;       ///< false: we may not open it (problem says why)
  bool valid = false;            ///< passes RegionReader::validate
  bool locked = false;           ///< someone holds the publisher's exclusive flock: a live publisher
  bool publisher_alive = false;  ///< header pid + start time still name a running process
  pid_t publisher_pid = 0;
  std::uint64_t epoch = 0;
  double age_seconds = 0;  ///< since the file's last status change
  std::string problem;     ///< why it is invalid or not inspectable

  /// Provably abandoned: no lock holder, no live pid, and either a valid header or old garbage.
  [[nodiscard]] bool dead() const noexcept;
};
/// Probes `shm_name` ("/x"). The flock probe takes a shared lock for microseconds
/// when nobody holds one; a publisher starting in that instant gets Errc::busy
/// and may simply retry.
[[nodiscard]] RegionProbe probe_region(std::string_view shm_name);

/// Topics of `prefix` that have a region: every /dev/shm/<prefix>:<topic> whose
/// topic part is a valid topic name. Sorted.
[[nodiscard]] std::vector<std::string> find_topics(std::string_view prefix);

/// Socket-mode topics offered in `directory` (PublisherOptions::socket_dir): every
/// socket DIR/<topic>.sock whose topic part is a valid topic name, whether or not a
/// publisher still answers on it (a killed one leaves its socket). Sorted. Throws
/// Error when the directory cannot be read.
[[nodiscard]] std::vector<std::string> find_socket_topics(const std::string& directory);

/// One resource `clean` looked at.
struct CleanEntry {
  std::string path;      ///< "/dev/shm/..." or "/dev/mqueue/..."
  std::string reason;    ///< why it was removed or kept
  bool removed = false;  ///< removed (or, in a dry run, would be)
};

/// What clean() did: removed (or would remove) and kept, in the order examined.
struct CleanReport {
  std::vector<CleanEntry> removed;
  std::vector<CleanEntry> kept;
  std::vector<std::string> errors;  ///< removals the OS refused
};

/// Removes the regions and queues of `prefix` whose owners are dead: a region
/// nobody holds the publisher lock on; a control queue whose region is gone or
/// dead; a notify queue no process holds open. A live resource is never touched;
/// one whose liveness cannot be proven is kept and reported. With `dry_run` only
/// reports. Anything under the prefix that is not a regular file (a FIFO, link or
/// directory someone planted, which blocks the topic) is reported, and removed only
/// with `force`. Throws Error for an invalid prefix.
[[nodiscard]] CleanReport clean(std::string_view prefix, bool dry_run, bool force = false);

}  // namespace shmsnap::admin
