// The one error scheme of shmsnap: setup calls (create, open, attach) throw
// shmsnap::Error; the hot path (publish, try_read, poll, wait) is noexcept and
// reports through return values. Every message names the resource, the cause and the fix.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace shmsnap {

/// Failure families a caller can branch on.
enum class Errc {
  invalid_argument,   ///< a bad topic/subscriber id, option or size
  not_found,          ///< the topic (region) or queue does not exist
  busy,               ///< a live publisher holds the topic, or a live subscriber holds the id
  permission_denied,  ///< the OS refused access (file mode, user, group)
  invalid_region,     ///< the region's header failed validation
  schema_mismatch,    ///< publisher and subscriber disagree on the snapshot layout
  limit_exceeded,     ///< a kernel or configured limit (mqueue sysctl, RLIMIT, max subscribers)
  out_of_space,       ///< /dev/shm (or the container's --shm-size) is too small
  protocol,           ///< a peer sent something the protocol does not allow
  timed_out,          ///< a bounded wait expired
  system,             ///< any other OS error
};

/// Stable lower-case name of an error family, e.g. "schema_mismatch".
[[nodiscard]] std::string_view to_string(Errc code) noexcept;

/// Thrown by setup calls. what() is the full human message.
class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message, int os_errno = 0)
      : std::runtime_error(message), code_(code), os_errno_(os_errno) {}

  /// The failure family.
  [[nodiscard]] Errc code() const noexcept { return code_; }
  /// The errno behind it, or 0 when the failure was not an OS call.
  [[nodiscard]] int os_errno() const noexcept { return os_errno_; }

 private:
  Errc code_;
  int os_errno_;
};

/// Programmer errors (broken preconditions) go through this one check: they abort
/// with the location, since no caller can recover from a broken contract.
[[noreturn]] void contract_violation(const char* condition, const char* file, int line) noexcept;

}  // namespace shmsnap

// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): a function cannot spell its argument (#condition)
#define SHMSNAP_EXPECTS(condition) \
  ((condition) ? void(0) : ::shmsnap::contract_violation(#condition, __FILE__, __LINE__))
