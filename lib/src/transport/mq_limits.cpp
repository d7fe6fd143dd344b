#include <fstream>

#include "shmsnap/detail/message_queue.hpp"

namespace shmsnap {
namespace {
long read_limit(const char* path, long fallback) noexcept {
  std::ifstream file(path);
  long value = 0;
  return (file >> value) && value > 0 ? value : fallback;
}
}  // namespace

MqLimits MqLimits::read() noexcept {
  MqLimits limits;
  limits.msg_max = read_limit("/proc/sys/fs/mqueue/msg_max", limits.msg_max);
  limits.msgsize_max = read_limit("/proc/sys/fs/mqueue/msgsize_max", limits.msgsize_max);
  limits.queues_max = read_limit("/proc/sys/fs/mqueue/queues_max", limits.queues_max);
  return limits;
}

}  // namespace shmsnap
