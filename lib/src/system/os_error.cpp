#include "system/os_error.hpp"

#include <cerrno>
#include <cstring>

namespace shmsnap::detail {
namespace {

std::string_view errno_name(int err) noexcept {
  switch (err) {
    case EACCES:
      return "EACCES";
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case EEXIST:
      return "EEXIST";
    case ENOSPC:
      return "ENOSPC";
    case ENOMEM:
      return "ENOMEM";
    case EMFILE:
      return "EMFILE";
    case ENFILE:
      return "ENFILE";
    case EINVAL:
      return "EINVAL";
    case ENAMETOOLONG:
      return "ENAMETOOLONG";
    case EAGAIN:
      return "EAGAIN";
    case EFBIG:
      return "EFBIG";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    default:
      return "errno";
  }
}

std::string_view generic_fix(int err) noexcept {
  switch (err) {
    case EACCES:
    case EPERM:
      return "run as the owning user or a member of its group, or create it with a wider --mode";
    case ENOSPC:
      return "free space in /dev/shm, or raise the limit (a container's --shm-size)";
    case ENOMEM:
      return "the host is out of memory";
    case ENFILE:
    case EMFILE:
      return "too many open descriptors: raise 'ulimit -n'";
    default:
      return {};
  }
}

}  // namespace

Errc errc_from_errno(int err) noexcept {
  switch (err) {
    case EACCES:
    case EPERM:
      return Errc::permission_denied;
    case ENOENT:
      return Errc::not_found;
    case EEXIST:
    case EBUSY:
    case EWOULDBLOCK:
      return Errc::busy;
    case ENOSPC:
    case EFBIG:
      return Errc::out_of_space;
    case EMFILE:
    case ENFILE:
      return Errc::limit_exceeded;
    case EINVAL:
    case ENAMETOOLONG:
      return Errc::invalid_argument;
    case ETIMEDOUT:
      return Errc::timed_out;
    default:
      return Errc::system;
  }
}

Error os_error(int err, std::string_view action, std::string_view resource, std::string_view fix) {
  std::string message = "cannot ";
  message.append(action).append(" ").append(resource).append(": ");
  message.append(std::strerror(err)).append(" (").append(errno_name(err)).append(")");
  const std::string_view advice = fix.empty() ? generic_fix(err) : fix;
  if (!advice.empty()) {
    message.append("; ").append(advice);
  }
  return Error(errc_from_errno(err), message, err);
}

}  // namespace shmsnap::detail
