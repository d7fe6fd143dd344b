// The attach path over the publisher's Unix socket (socket mode): connect to
// DIR/<topic>.sock, check the publisher's credentials against the trusted owners,
// send HELLO with a write-only descriptor of this subscriber's notify queue, and
// map the sealed region that comes back with WELCOME (read-only: the kernel refuses
// anything else). The notify queue is made in this process's IPC namespace and its
// name removed at once, so nothing is left to find or squat. The connection is the
// control channel: BYE on it ends the registration, and its EOF says the publisher
// is gone, across PID namespaces where a pidfd cannot reach. Used by one thread at
// a time, like its subscriber.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/subscriber.hpp"
#include "subscriber/attach_path.hpp"
#include "transport/unique_fd.hpp"

namespace shmsnap::detail {

class SocketAttach final : public AttachPath {
 public:
  /// Throws Error(invalid_argument) when the socket path does not fit (socket_path()).
  SocketAttach(const std::string& directory, std::string topic, std::string id, const SubscriberOptions& options);
  ~SocketAttach() override;
  SocketAttach(const SocketAttach&) = delete;
  SocketAttach& operator=(const SocketAttach&) = delete;
  SocketAttach(SocketAttach&&) = delete;
  SocketAttach& operator=(SocketAttach&&) = delete;

  /// Connects, registers and maps the region the publisher sends. Throws Error:
  /// not_found (no live publisher on the socket), permission_denied (an untrusted
  /// publisher, or one that does not admit this user), busy (id in use),
  /// limit_exceeded (its table is full), timed_out, protocol, invalid_region.
  [[nodiscard]] RegionReader open_region(MessageQueue& notify, std::int64_t deadline_ns) override;
  /// The registration was made by open_region: returns a duplicate of the
  /// connection, which turns readable when the publisher is gone.
  [[nodiscard]] int register_with(const RegionReader& region, MessageQueue& notify, std::int64_t deadline_ns) override;
  void unregister(const RegionReader* region, bool say_bye) noexcept override;
  /// Connects to the socket: true when a publisher accepted, and the connection is
  /// kept for the next open_region. Which publisher it is shows only in its WELCOME,
  /// so a live one counts whatever its epoch.
  [[nodiscard]] bool successor_ready(ino_t inode, std::uint64_t epoch) noexcept override;
  void release(MessageQueue& notify) noexcept override;

 private:
  void create_notify_queue(MessageQueue& notify);
  [[nodiscard]] UniqueFd connect_trusted(std::int64_t deadline_ns);

  std::string path_;
  std::string topic_;
  std::string id_;
  std::vector<uid_t> trusted_owners_;
  bool wants_notify_;             // not in spin mode: the publisher sends UPDATEs
  UniqueFd connection_;           // to the publisher followed now
  UniqueFd ready_;                // a connection successor_ready made, for the next open_region
  MessageQueue queue_writer_;     // the notify queue's write-only descriptor, sent with each HELLO
  std::string reattach_problem_;  // the last refusal while looking for a successor, said once
};

}  // namespace shmsnap::detail
