// The socket mode's transport: the publisher's listening Unix stream socket at
// DIR/<topic>.sock, connecting to it, moving frames with descriptors attached
// (SCM_RIGHTS), the peer's credentials (SO_PEERCRED), and the check that a received
// descriptor is a writable notify queue. errno becomes shmsnap::Error here. Every
// wait is bounded by a timeout; every received descriptor is owned by a UniqueFd
// from the moment it arrives, so no failure leaks one. Each object is used by one
// thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmsnap/detail/attach_handshake.hpp"
#include "transport/unique_fd.hpp"

namespace shmsnap::detail {

/// "DIR/<topic>.sock". Throws Error (invalid_argument) when it does not fit a
/// socket address (108 bytes), naming the directory to shorten.
[[nodiscard]] std::string socket_path(const std::string& directory, std::string_view topic);

/// Who is at the other end of a connected Unix socket (SO_PEERCRED: as the
/// kernel saw it at connect or listen, mapped into this process's namespaces).
struct PeerCredentials {
  pid_t pid = 0;  ///< 0 when the peer is in a PID namespace this one cannot see
  uid_t uid = 0;
  gid_t gid = 0;
};

/// SO_PEERCRED of `socket`. Throws Error.
[[nodiscard]] PeerCredentials peer_credentials(int socket);

// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions): the move operations delete copying
class SocketListener {
 public:
  /// Listens at socket_path(directory, topic). The directory must exist. Holds an
  /// exclusive lock on "DIR/<topic>.sock.lock" for its lifetime, so two starting
  /// publishers cannot both take a stale socket over. At the socket path:
  /// nothing: bind; a socket that accepts a connection: Errc::busy naming the live
  /// publisher's pid and user; a socket that refuses (its publisher died): removed
  /// and replaced; a link, file, FIFO or directory: Errc::invalid_argument (never
  /// followed or removed). The socket gets `mode` whatever the umask: who may
  /// attach is decided by the peer's credentials, not by the file. Throws Error.
  [[nodiscard]] static SocketListener create(const std::string& directory, std::string_view topic, mode_t mode = 0666,
                                             int backlog = 16);

  SocketListener() = default;
  SocketListener(SocketListener&& other) noexcept;
  SocketListener& operator=(SocketListener&& other) noexcept;
  /// Removes the socket path if it is still this listener's, and closes.
  ~SocketListener();

  /// Accepts one pending connection (non-blocking, close-on-exec), waiting up to
  /// `timeout`; nullopt when none came. Throws Error on a failure that is not the
  /// peer's (EMFILE: the descriptor limit).
  [[nodiscard]] std::optional<UniqueFd> accept(std::chrono::milliseconds timeout);

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] int native_handle() const noexcept { return socket_.get(); }

 private:
  void close() noexcept;

  UniqueFd socket_;
  UniqueFd lock_;
  std::string path_;
  ino_t inode_ = 0;
};

/// Connects to the publisher's socket at `path` within `timeout`. The connection is
/// non-blocking and close-on-exec. Throws Error: not_found (no socket, or its
/// publisher is gone), permission_denied, timed_out.
[[nodiscard]] UniqueFd connect_to_socket(const std::string& path, std::chrono::milliseconds timeout);

/// Sends `bytes` whole within `timeout`, `descriptors` attached to the first byte
/// (at most attach_max_descriptors). Never raises SIGPIPE. Throws Error
/// (timed_out, or the peer closed: protocol).
void send_with_descriptors(int socket, std::span<const std::byte> bytes, std::span<const int> descriptors,
                           std::chrono::milliseconds timeout);

/// The most descriptors any frame carries; more arriving is a protocol error.
inline constexpr std::size_t attach_max_descriptors = 1;

/// One frame received whole, with the descriptors that came with it.
struct ReceivedFrame {
  AttachFrame frame;
  std::vector<UniqueFd> descriptors;
};

/// Reads one attach frame within `timeout` (for the whole frame, so a peer that
/// trickles bytes cannot hold the reader longer). nullopt: the peer closed at a frame
/// boundary (EOF). Refuses (Errc::protocol, naming the problem), closing every
/// descriptor received: a bad header or body, a truncated frame, descriptors other
/// than attach_descriptor_count(frame) of them, a truncated control message
/// (MSG_CTRUNC), any ancillary data but SCM_RIGHTS. Errc::timed_out when the frame
/// did not arrive whole in time. Received descriptors are close-on-exec.
[[nodiscard]] std::optional<ReceivedFrame> receive_attach_frame(int socket, std::chrono::milliseconds timeout);

/// Encodes `frame` and sends it with `descriptors` (attach_descriptor_count(frame)
/// of them: a contract). Throws Error as send_with_descriptors.
void send_attach_frame(int socket, const AttachFrame& frame, std::span<const int> descriptors,
                       std::chrono::milliseconds timeout);

/// Checks that `descriptor` (received with a HELLO) is a POSIX message queue this
/// process may write, whose messages are `message_size` bytes. Throws Error
/// (invalid_argument) saying what it is instead: a regular file, a socket, a queue
/// opened read-only, a queue of another message size.
void check_notify_queue_descriptor(int descriptor, long message_size);

}  // namespace shmsnap::detail
