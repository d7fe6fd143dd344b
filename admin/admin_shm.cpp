// shmsnap shm ...: POSIX shared memory objects (/dev/shm), with a shmsnap
// region's header shown where the object is one.
#include <fmt/format.h>

#include "admin_commands.hpp"
#include "shmsnap/admin.hpp"
#include "shmsnap/region.hpp"

namespace shmsnap::app {

int shm_ls(const ShmCommand& command, Io& io) {
  const std::vector<admin::ObjectInfo> objects = admin::list_shm(command.starts_with);
  if (objects.empty()) {
    io.out << "no shared memory objects"
           << (command.starts_with.empty() ? "" : " starting with '" + command.starts_with + "'") << " in /dev/shm"
           << std::endl;
    return exit_ok;
  }
  io.out << fmt::format("{:<44} {:>12}  {:<10} {:<10} {}", "NAME", "SIZE", "MODE", "OWNER", "MODIFIED") << "\n";
  for (const admin::ObjectInfo& info : objects) {
    io.out << fmt::format("{:<44} {:>12}  {:<10} {:<10} {}", info.name, info.size, permission_text(info.mode),
                          user_name(info.uid), local_time_text(info.modified_realtime_ns))
           << "\n";
  }
  io.out.flush();
  return exit_ok;
}

int shm_stat(const ShmCommand& command, Io& io) {
  const admin::ObjectInfo info = admin::stat_shm(command.name);
  io.out << "name:      " << info.name << "\n"
         << "path:      " << info.path << "\n"
         << "size:      " << info.size << " bytes\n"
         << fmt::format("mode:      {:04o} ({})\n", info.mode, permission_text(info.mode))
         << "owner:     " << user_name(info.uid) << " (uid " << info.uid << ", gid " << info.gid << ")\n"
         << "inode:     " << info.inode << "\n"
         << "modified:  " << local_time_text(info.modified_realtime_ns) << "\n";
  const admin::RegionProbe probe = admin::probe_region(command.name);
  if (!probe.valid) {
    io.out << "shmsnap:   not a usable shmsnap region (" << probe.problem << ")" << std::endl;
    return exit_ok;
  }
  // Inspection only: show whatever is there, whoever owns it (its owner is printed).
  const RegionReader reader = RegionReader::open(command.name, TrustedOwners{.anyone = true});
  io.out << "shmsnap:   region of schema " << reader.schema_name() << " v" << reader.header().schema_version << "\n"
         << "publisher: pid " << reader.publisher_pid() << (reader.publisher_alive() ? " alive" : " dead")
         << (probe.locked ? ", holds the topic lock" : ", lock free") << (reader.closed() ? ", closed" : "") << "\n"
         << "epoch:     " << reader.epoch() << "\n"
         << "sequence:  " << reader.latest_seq() << "\n"
         << "slots:     " << reader.header().slot_count << " x " << reader.payload_size() << " bytes\n"
         << "subscribers: " << reader.subscribers().size() << std::endl;
  return exit_ok;
}

int shm_rm(const ShmCommand& command, Io& io) {
  const admin::RegionProbe probe = admin::probe_region(command.name);
  if (!probe.exists) {
    throw Error(Errc::not_found, "shared memory object " + command.name + " does not exist");
  }
  if (probe.locked && !command.force) {
    throw Error(Errc::busy, fmt::format("refusing to remove {}: it is the region of a live publisher (pid {}); stop "
                                        "that publisher (it removes its region itself) or pass --force",
                                        command.name, probe.publisher_pid));
  }
  if (!admin::remove_shm(command.name)) {
    throw Error(Errc::not_found, "shared memory object " + command.name + " does not exist");
  }
  io.out << "removed " << command.name << std::endl;
  return exit_ok;
}

}  // namespace shmsnap::app
