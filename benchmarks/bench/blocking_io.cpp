// The failure texts of blocking_io.hpp, out of line: they are off the latency path.
#include "bench/blocking_io.hpp"

#include <cstring>

namespace shmsnap::bench {

std::string describe_failure(const CallResult& result, std::string_view call, std::string_view endpoint_kind) {
  switch (result.outcome) {
    case CallOutcome::peer_closed:
      return "publisher closed the " + std::string(endpoint_kind);
    case CallOutcome::deadline_passed:
      return std::string(call) + ": deadline passed";
    case CallOutcome::failed:
      return std::string(call) + ": " + std::strerror(result.error);
    case CallOutcome::done:  // not a failure; no caller asks, but the switch stays total
      break;
  }
  return std::string(call) + ": succeeded";
}

}  // namespace shmsnap::bench
