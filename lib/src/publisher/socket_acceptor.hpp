// The publisher's side of socket mode: the listening socket at DIR/<topic>.sock,
// the connections that have not said HELLO yet (each with a deadline), and the
// handshake. A connection's peer credentials are checked against the admission
// policy before a byte of it is read; its HELLO's notify queue descriptor must be a
// writable queue of notify messages; then the registry's admit() decides, and the
// answer is WELCOME with the sealed region's descriptor or REJECTED with the reason.
// A welcomed connection moves into its SubscriberLink, where the registry watches
// it. Nothing a peer sends can hold the control thread longer than one bounded
// frame read, or make the pending set grow past its bound.
// Threads: the constructor and listen() on the owning thread before the control
// thread starts; the rest on the control thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "publisher/control_loop.hpp"
#include "publisher/registry.hpp"
#include "region/region_writer.hpp"
#include "transport/admission_policy.hpp"
#include "transport/unique_fd.hpp"
#include "transport/unix_socket.hpp"

namespace shmsnap::detail {

// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions): holds references to its peers; neither copied nor moved
class SocketAcceptor {
 public:
  /// Keys at and above this are the acceptor's in the control loop (the registry's
  /// keys count up from 1 and never reach it).
  static constexpr std::uint64_t first_key = std::uint64_t{1} << 62;

  /// Listens at socket_path(directory, topic) (SocketListener::create: a live
  /// publisher there is Errc::busy, a planted file is refused). `region` (sealed),
  /// `registry` and `loop` must outlive it. Throws Error.
  SocketAcceptor(const std::string& directory, const std::string& topic, AdmissionPolicy policy, RegionWriter& region,
                 Registry& registry, ControlLoop& loop);
  SocketAcceptor(const SocketAcceptor&) = delete;
  SocketAcceptor& operator=(const SocketAcceptor&) = delete;

  /// True for the keys this acceptor watches (route on_ready to it).
  [[nodiscard]] static bool owns(std::uint64_t key) noexcept { return key >= first_key; }
  /// The listening socket or a pending connection under `key` is readable.
  void on_ready(std::uint64_t key) noexcept;
  /// Closes pending connections that did not send a HELLO in time.
  void expire_pending() noexcept;

  [[nodiscard]] const std::string& path() const noexcept { return listener_.path(); }
  /// Connections refused (policy, bad HELLO, bad queue, silence); any thread.
  [[nodiscard]] std::uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }

 private:
  struct Pending {
    std::uint64_t key = 0;
    UniqueFd connection;
    PeerCredentials peer;
    std::int64_t deadline_ns = 0;
  };

  void accept_all() noexcept;
  void handle_hello(Pending& pending) noexcept;
  void refuse(Pending& pending, AttachRejectReason reason, const std::string& why) noexcept;
  void close_pending(std::uint64_t key) noexcept;

  std::string topic_;
  AdmissionPolicy policy_;
  RegionWriter& region_;
  Registry& registry_;
  ControlLoop& loop_;
  SocketListener listener_;
  std::vector<Pending> pending_;
  std::uint64_t next_key_ = first_key + 1;  // first_key is the listener's
  std::int64_t last_refusal_log_ns_ = 0;
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace shmsnap::detail
