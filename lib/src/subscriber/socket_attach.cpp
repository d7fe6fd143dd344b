// The attach path over the publisher's socket (socket_attach.hpp): connecting and
// checking who listens, the anonymous notify queue, HELLO and its answer, BYE.
#include "subscriber/socket_attach.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <span>
#include <utility>
#include <variant>

#include "shmsnap/clock.hpp"
#include "shmsnap/detail/attach_handshake.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/region.hpp"
#include "system/log.hpp"
#include "system/process.hpp"
#include "transport/unix_socket.hpp"

namespace shmsnap::detail {
namespace {

using namespace std::chrono_literals;

// The look for a successor while detached: one connect, quickly given up.
constexpr auto successor_connect_timeout = 20ms;
// A BYE goes into an idle connection's empty buffer; never wait long for it.
constexpr auto bye_timeout = 20ms;
// How long to look for a REJECTED already sent when sending the HELLO failed.
constexpr auto early_answer_timeout = 100ms;
// Names tried for the anonymous notify queue before giving up.
constexpr int queue_name_attempts = 8;

std::chrono::milliseconds left_until(std::int64_t deadline_ns) {
  const std::int64_t left_ns = deadline_ns - monotonic_ns();
  return std::chrono::milliseconds(std::max<std::int64_t>(1, left_ns / 1'000'000));
}

std::string random_queue_name() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  char name[64];
  std::snprintf(name, sizeof name, "/shmsnap-attach.%d.%016llx", static_cast<int>(getpid()),
                static_cast<unsigned long long>(generator()));
  return name;
}

Errc errc_of(AttachRejectReason reason) {
  switch (reason) {
    case AttachRejectReason::not_admitted:
      return Errc::permission_denied;
    case AttachRejectReason::table_full:
      return Errc::limit_exceeded;
    case AttachRejectReason::id_in_use:
      return Errc::busy;
    case AttachRejectReason::schema_mismatch:
      return Errc::schema_mismatch;
    case AttachRejectReason::bad_queue:
    case AttachRejectReason::bad_request:
      break;
  }
  return Errc::protocol;
}

}  // namespace

SocketAttach::SocketAttach(const std::string& directory, std::string topic, std::string id,
                           const SubscriberOptions& options)
    : path_(socket_path(directory, topic)),
      topic_(std::move(topic)),
      id_(std::move(id)),
      trusted_owners_(options.trusted_owners),
      wants_notify_(options.mode != WaitMode::spin) {}

SocketAttach::~SocketAttach() = default;

UniqueFd SocketAttach::connect_trusted(std::int64_t deadline_ns) {
  UniqueFd connection = connect_to_socket(path_, left_until(deadline_ns));
  const PeerCredentials publisher = peer_credentials(connection.get());
  if (!TrustedOwners{.also = trusted_owners_}.trusts(publisher.uid)) {
    throw Error(Errc::permission_denied,
                "topic '" + topic_ + "': the socket " + path_ + " is served by user " + user_name(publisher.uid) +
                    " (" + pid_text(publisher.pid) +
                    "), whom this subscriber does not trust (it trusts its own user and root). If that user runs "
                    "the publisher, trust it with SubscriberOptions::trusted_owners or --trust-owner " +
                    login_name(publisher.uid) + "; otherwise remove the socket and start the real publisher");
  }
  return connection;
}

void SocketAttach::create_notify_queue(MessageQueue& notify) {
  if (notify.is_open() && queue_writer_.is_open()) {
    return;  // re-attaching: the same queue serves the next publisher
  }
  notify.close();
  queue_writer_.close();
  MessageQueue::CreateOptions queue_options;
  queue_options.max_messages = 1;  // conflation: one pending wake-up is all a latest-value reader needs
  queue_options.message_size = sizeof(NotifyMessage);
  queue_options.mode = 0600;  // nobody opens it by name: its name is removed below
  queue_options.access = MessageQueue::Access::read;
  for (int attempt = 0; attempt < queue_name_attempts; ++attempt) {
    const std::string name = random_queue_name();
    try {
      notify = MessageQueue::create(name, queue_options);
    } catch (const Error& failure) {
      if (failure.code() == Errc::busy) {
        continue;  // the name exists (a stranger guessed it): draw another
      }
      throw;
    }
    try {
      queue_writer_ = MessageQueue::open(name, MessageQueue::Access::write, true);
    } catch (...) {
      MessageQueue::unlink(name);
      notify.close();
      throw;
    }
    // From here the queue has no name: only descriptors reach it.
    MessageQueue::unlink(name);
    return;
  }
  throw Error(Errc::busy, "subscriber '" + id_ + "' on topic '" + topic_ +
                              "': every name drawn for its notify queue was taken; is something creating queues "
                              "named /shmsnap-attach.*?");
}

RegionReader SocketAttach::open_region(MessageQueue& notify, std::int64_t deadline_ns) {
  UniqueFd connection = ready_.valid() ? std::move(ready_) : connect_trusted(deadline_ns);
  const PeerCredentials publisher = peer_credentials(connection.get());
  // Made in spin mode too (the waiter watches it), but sent only to be notified.
  create_notify_queue(notify);
  // Leftovers from a previous publisher would only wake us for nothing.
  std::array<std::byte, sizeof(NotifyMessage)> buffer{};
  while (notify.receive(buffer).status == QueueStatus::ok) {
  }
  const AttachHello hello{.flags = wants_notify_ ? hello_wants_notify : 0U, .id = id_};
  std::vector<int> descriptors;
  if (wants_notify_) {
    descriptors.push_back(queue_writer_.native_handle());
  }
  const auto refused = [&](const AttachRejected& rejected) {
    return Error(errc_of(rejected.reason), "topic '" + topic_ + "': the publisher on " + path_ + " refused (" +
                                               std::string(to_string(rejected.reason)) + "): " + rejected.text);
  };
  try {
    send_attach_frame(connection.get(), hello, descriptors, left_until(deadline_ns));
  } catch (const Error&) {
    // A publisher that refuses at connect (not admitted) answers and closes before
    // reading the HELLO, so sending it fails: its REJECTED may be waiting, and says why.
    std::optional<ReceivedFrame> early;
    try {
      early = receive_attach_frame(connection.get(), early_answer_timeout);
    } catch (const Error&) {
      // Nothing readable either: the send's failure, rethrown below, is the news.
    }
    if (early) {
      if (const auto* rejected = std::get_if<AttachRejected>(&early->frame)) {
        throw refused(*rejected);
      }
    }
    throw;
  }
  std::optional<ReceivedFrame> answer = receive_attach_frame(connection.get(), left_until(deadline_ns));
  if (!answer) {
    throw Error(Errc::not_found, "topic '" + topic_ + "': the publisher on " + path_ +
                                     " closed the connection without answering HELLO (it is shutting down?); retry");
  }
  if (const auto* rejected = std::get_if<AttachRejected>(&answer->frame)) {
    throw refused(*rejected);
  }
  const auto* welcome = std::get_if<AttachWelcome>(&answer->frame);
  if (welcome == nullptr) {
    throw Error(Errc::protocol, "topic '" + topic_ + "': the publisher on " + path_ +
                                    " answered HELLO with neither WELCOME nor REJECTED; is it a shmsnap publisher "
                                    "of this version?");
  }
  // The connection tells the region's reader when the publisher is gone.
  const int liveness = fcntl(connection.get(), F_DUPFD_CLOEXEC, 0);
  if (liveness < 0) {
    throw Error(Errc::system, "topic '" + topic_ + "': cannot duplicate the connection: " + std::strerror(errno),
                errno);
  }
  RegionReader region =
      RegionReader::adopt_sealed(answer->descriptors.front().release(), welcome->region_size, liveness, publisher.uid,
                                 "(memfd of topic '" + topic_ + "' from " + path_ + ")");
  if (region.epoch() != welcome->epoch || region.header().schema_fingerprint != welcome->schema_fingerprint) {
    throw Error(Errc::protocol, "topic '" + topic_ + "': the region the publisher on " + path_ +
                                    " sent does not match its WELCOME (epoch or schema); retry");
  }
  connection_ = std::move(connection);
  return region;
}

int SocketAttach::register_with(const RegionReader& /*region*/, MessageQueue& /*notify*/,
                                std::int64_t /*deadline_ns*/) {
  const int death_watch = fcntl(connection_.get(), F_DUPFD_CLOEXEC, 0);
  if (death_watch < 0) {
    throw Error(Errc::system, "topic '" + topic_ + "': cannot duplicate the connection: " + std::strerror(errno),
                errno);
  }
  return death_watch;
}

void SocketAttach::unregister(const RegionReader* /*region*/, bool say_bye) noexcept {
  if (say_bye && connection_.valid()) {
    try {
      send_attach_frame(connection_.get(), AttachBye{.reason = AttachByeReason::closing}, {}, bye_timeout);
    } catch (const Error&) {
      // The publisher is gone or not reading: the close below says the same.
    }
  }
  connection_.reset();
}

bool SocketAttach::successor_ready(ino_t /*inode*/, std::uint64_t /*epoch*/) noexcept {
  ready_.reset();
  try {
    ready_ = connect_trusted(monotonic_ns() + std::chrono::nanoseconds(successor_connect_timeout).count());
  } catch (const Error& failure) {
    // Nobody listening is the common case; an untrusted listener is worth a line, once.
    if (failure.code() == Errc::permission_denied && reattach_problem_ != failure.what()) {
      reattach_problem_ = failure.what();
      log().warn("subscriber '{}' on topic '{}': still waiting for a publisher: {}", id_, topic_, reattach_problem_);
    }
    return false;
  }
  reattach_problem_.clear();
  return true;
}

void SocketAttach::release(MessageQueue& notify) noexcept {
  ready_.reset();
  connection_.reset();
  queue_writer_.close();
  notify.close();  // nameless: closing the last descriptor removes it
}

}  // namespace shmsnap::detail
