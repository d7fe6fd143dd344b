// Name -> transport lookup. The shmsnap transport is present only when the library's
// Publisher/Subscriber headers were available at configure time.
#include <stdexcept>

#include "bench/transport.hpp"

namespace shmsnap::bench {

std::vector<std::string> available_transports() {
  std::vector<std::string> names{"floor", "posix_mq", "uds", "pipe", "sysv_mq", "boost_mq"};
#if SHMSNAP_BENCH_HAVE_LIBRARY
  names.insert(names.begin() + 1, "shmsnap");
#endif
  return names;
}

std::unique_ptr<Transport> make_transport(std::string_view name) {
  if (name == "floor")
    return make_floor_transport();
  if (name == "posix_mq")
    return make_posix_mq_transport();
  if (name == "uds")
    return make_uds_transport();
  if (name == "pipe")
    return make_pipe_transport();
  if (name == "sysv_mq")
    return make_sysv_mq_transport();
  if (name == "boost_mq")
    return make_boost_mq_transport();
#if SHMSNAP_BENCH_HAVE_LIBRARY
  if (name == "shmsnap")
    return make_shmsnap_transport();
#endif
  std::string known;
  for (const auto& candidate : available_transports())
    known += (known.empty() ? "" : ", ") + candidate;
  throw std::invalid_argument("unknown transport '" + std::string(name) + "' (this build has: " + known + ")");
}

}  // namespace shmsnap::bench
