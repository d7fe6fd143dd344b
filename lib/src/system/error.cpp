#include "shmsnap/error.hpp"

#include <cstdio>
#include <cstdlib>

namespace shmsnap {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::not_found:
      return "not_found";
    case Errc::busy:
      return "busy";
    case Errc::permission_denied:
      return "permission_denied";
    case Errc::invalid_region:
      return "invalid_region";
    case Errc::schema_mismatch:
      return "schema_mismatch";
    case Errc::limit_exceeded:
      return "limit_exceeded";
    case Errc::out_of_space:
      return "out_of_space";
    case Errc::protocol:
      return "protocol";
    case Errc::timed_out:
      return "timed_out";
    case Errc::system:
      return "system";
  }
  return "unknown";
}

void contract_violation(const char* condition, const char* file, int line) noexcept {
  std::fprintf(stderr, "shmsnap: contract violated: %s (%s:%d)\n", condition, file, line);
  std::abort();
}

}  // namespace shmsnap
