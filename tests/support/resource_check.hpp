// Test support: what a test left in /dev/shm and the mqueue namespace under its
// prefix. The mqueue filesystem is mounted at /dev/mqueue when it is not (root),
// because leaked queues are invisible otherwise.
#pragma once

#include <string>
#include <vector>

namespace shmsnap::test {

/// True when /dev/mqueue is (or could be made) an mqueue mount.
bool ensure_mqueue_mounted();

/// Names under /dev/shm and /dev/mqueue that start with "<prefix>:".
std::vector<std::string> leftovers(const std::string& prefix);

/// Removes every leftover of `prefix` (after a failed test, so one failure does
/// not cascade); returns what it removed.
std::vector<std::string> remove_leftovers(const std::string& prefix);

}  // namespace shmsnap::test
