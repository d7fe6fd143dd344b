// Name -> transport lookup. The shmsnap transport is present only when the library's
// Publisher/Subscriber headers were available at configure time, iceoryx only when
// CMake found iceoryx_posh (Debian: libiceoryx-posh-dev).
#include <stdexcept>

#include "bench/transport.hpp"

namespace shmsnap::bench {

std::vector<std::string> available_transports() {
  std::vector<std::string> names{"floor", "posix_mq", "uds", "pipe", "sysv_mq", "boost_mq"};
#if SHMSNAP_BENCH_HAVE_LIBRARY
  names.insert(names.begin() + 1, {"shmsnap", "shmsnap-sock"});
#endif
#if SHMSNAP_BENCH_HAVE_ICEORYX
  names.insert(names.begin() + (SHMSNAP_BENCH_HAVE_LIBRARY ? 3 : 1), "iceoryx");
#endif
  return names;
}

std::vector<std::string> skipped_transports() {
  std::vector<std::string> skipped;
#if !SHMSNAP_BENCH_HAVE_ICEORYX
  skipped.emplace_back(
      "iceoryx: skipped, this build found no iceoryx_posh at configure time "
      "(apt install libiceoryx-posh-dev iceoryx, then reconfigure)");
#endif
#if !SHMSNAP_BENCH_HAVE_LIBRARY
  skipped.emplace_back("shmsnap: skipped, the library API was not available at configure time");
  skipped.emplace_back("shmsnap-sock: skipped, the library API was not available at configure time");
#endif
  return skipped;
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
  if (name == "shmsnap-sock")
    return make_shmsnap_socket_transport();
#endif
#if SHMSNAP_BENCH_HAVE_ICEORYX
  if (name == "iceoryx")
    return make_iceoryx_transport();
#endif
  for (const auto& why : skipped_transports()) {
    if (why.starts_with(std::string(name) + ":"))
      throw std::invalid_argument("transport " + why);
  }
  std::string known;
  for (const auto& candidate : available_transports())
    known += (known.empty() ? "" : ", ") + candidate;
  throw std::invalid_argument("unknown transport '" + std::string(name) + "' (this build has: " + known + ")");
}

}  // namespace shmsnap::bench
