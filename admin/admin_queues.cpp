// shmsnap mq ...: POSIX message queues by hand, through the library's
// MessageQueue (so limits and errors read as everywhere else in shmsnap).
#include <poll.h>
#include <sys/select.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "admin_commands.hpp"
#include "shmsnap/admin.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/detail/message_queue.hpp"

namespace shmsnap::app {
namespace {

constexpr int wait_slice_ms = 100;  // how late a blocked command may notice SIGINT

// The same rule MessageQueue applies on create/open, for the commands that only use a name.
void check_queue_name(const std::string& name) {
  if (name.size() < 2 || name.front() != '/' || name.find('/', 1) != std::string::npos || name.size() > 255) {
    throw Error(Errc::invalid_argument,
                "invalid message queue name '" + name +
                    "': it must start with '/', contain no other '/', and be at most 255 characters");
  }
}

// Messages are arbitrary bytes: show text as text and anything else escaped.
std::string printable(std::span<const std::byte> bytes) {
  std::string text;
  for (const std::byte value : bytes) {
    const auto character = static_cast<unsigned char>(value);
    if (std::isprint(character) != 0 && character != '\\') {
      text += static_cast<char>(character);
    } else if (character == '\\') {
      text += "\\\\";
    } else {
      text += fmt::format("\\x{:02x}", character);
    }
  }
  return text;
}

std::string process_name(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

struct OpenQueue {
  MessageQueue queue;
  std::vector<std::byte> buffer;
};

}  // namespace

int mq_create(const QueueCommand& command, Io& io) {
  const std::string& name = command.name;
  MessageQueue::CreateOptions options;
  options.max_messages = command.max_messages;
  options.message_size = command.message_size;
  options.mode = parse_mode(command.mode);
  options.access = MessageQueue::Access::read;
  options.exclusive = true;
  options.strict_limits = true;  // say which sysctl to raise instead of silently clamping
  const MessageQueue queue = MessageQueue::create(name, options);
  const MessageQueue::Attributes attributes = queue.attributes();
  io.out << fmt::format("created {} (maxmsg {}, msgsize {}, mode {:04o})", name, attributes.max_messages,
                        attributes.message_size, options.mode)
         << std::endl;
  return exit_ok;
}

int mq_send(const QueueCommand& command, Io& io) {
  const std::string& name = command.name;
  // Always a non-blocking descriptor: a "blocking" send waits in poll() so that
  // SIGINT ends it (MessageQueue::send retries EINTR by design).
  MessageQueue queue = MessageQueue::open(name, MessageQueue::Access::write, true);
  const MessageQueue::Attributes attributes = queue.attributes();
  if (static_cast<long>(command.text.size()) > attributes.message_size) {
    throw Error(Errc::invalid_argument, fmt::format("message of {} bytes is larger than the message size of {}, {} "
                                                    "bytes; shorten it or recreate the queue with a larger --msgsize",
                                                    command.text.size(), name, attributes.message_size));
  }
  const auto bytes = std::as_bytes(std::span(command.text.data(), command.text.size()));
  while (true) {
    switch (queue.send(bytes, command.priority)) {
      case QueueStatus::ok:
        io.out << fmt::format("sent {} bytes to {} (priority {})", bytes.size(), name, command.priority) << std::endl;
        return exit_ok;
      case QueueStatus::full:
        if (command.nonblock) {
          io.err << fmt::format(
                        "shmsnap mq send: {} is full (EAGAIN): it holds its maximum of {} messages; "
                        "receive some or send without --nonblock to wait",
                        name, attributes.max_messages)
                 << std::endl;
          return exit_would_block;
        }
        break;
      case QueueStatus::too_large:
        throw Error(Errc::invalid_argument, "message too large for " + name + " (EMSGSIZE)");
      case QueueStatus::empty:
      case QueueStatus::error:
        throw Error(Errc::system, fmt::format("cannot send to {}: {}", name, std::strerror(errno)));
    }
    if (io.stop.load(std::memory_order_relaxed)) {
      io.err << "shmsnap mq send: interrupted while " << name << " was full; nothing sent" << std::endl;
      return exit_failure;
    }
    // mqueue descriptors poll writable once the queue has room.
    pollfd entry{queue.native_handle(), POLLOUT, 0};
    ::poll(&entry, 1, wait_slice_ms);
  }
}

int mq_recv(const QueueCommand& command, Io& io) {
  std::vector<OpenQueue> queues;
  for (const std::string& name : command.names) {
    OpenQueue opened{MessageQueue::open(name, MessageQueue::Access::read, true), {}};
    opened.buffer.resize(static_cast<std::size_t>(opened.queue.attributes().message_size));
    queues.push_back(std::move(opened));
  }
  std::uint64_t received = 0;
  // Takes one message from `entry`; true when one was printed.
  const auto take = [&](OpenQueue& entry) {
    const Received message = entry.queue.receive(entry.buffer);
    if (message.status == QueueStatus::empty) {
      return false;
    }
    if (message.status != QueueStatus::ok) {
      throw Error(Errc::system, fmt::format("cannot receive from {}: {}", entry.queue.name(), std::strerror(errno)));
    }
    io.out << fmt::format("{} prio={}: {}", entry.queue.name(), message.priority,
                          printable(std::span(entry.buffer.data(), message.size)))
           << std::endl;
    ++received;
    return true;
  };
  const auto done = [&] { return command.count != 0 && received >= command.count; };

  if (command.nonblock) {
    for (OpenQueue& entry : queues) {
      while (!done() && take(entry)) {
      }
    }
    if (received == 0) {
      io.err << "shmsnap mq recv: no message pending (EAGAIN)" << std::endl;
      return exit_would_block;
    }
    return exit_ok;
  }

  std::int64_t last_message = monotonic_ns();
  const auto timeout_ns = static_cast<std::int64_t>(command.timeout * 1e9);
  while (!done() && !io.stop.load(std::memory_order_relaxed)) {
    fd_set readable;
    FD_ZERO(&readable);
    int highest = -1;
    for (const OpenQueue& entry : queues) {
      FD_SET(entry.queue.native_handle(), &readable);
      highest = std::max(highest, entry.queue.native_handle());
    }
    timeval slice{0, wait_slice_ms * 1000};
    const int ready = ::select(highest + 1, &readable, nullptr, nullptr, &slice);
    if (ready < 0 && errno != EINTR) {
      throw Error(Errc::system, std::string("select failed: ") + std::strerror(errno));
    }
    for (OpenQueue& entry : queues) {
      if (ready > 0 && FD_ISSET(entry.queue.native_handle(), &readable) && !done() && take(entry)) {
        last_message = monotonic_ns();
      }
    }
    if (timeout_ns > 0 && !done() && monotonic_ns() - last_message >= timeout_ns) {
      io.err << fmt::format("shmsnap mq recv: no message for {} s", command.timeout) << std::endl;
      return exit_timed_out;
    }
  }
  return exit_ok;
}

int mq_stat(const QueueCommand& command, Io& io) {
  const std::string& name = command.name;
  const MessageQueue queue = MessageQueue::open(name, MessageQueue::Access::read, true);
  const MessageQueue::Attributes attributes = queue.attributes();
  io.out << "name:             " << name << "\n"
         << "max messages:     " << attributes.max_messages << "\n"
         << "message size:     " << attributes.message_size << "\n"
         << "messages pending: " << attributes.pending << "\n";
  if (admin::mqueue_mounted()) {
    const admin::ObjectInfo info = admin::stat_mqueue(name);
    io.out << "bytes queued:     " << info.size << "\n"
           << fmt::format("mode:             {:04o} ({})\n", info.mode, permission_text(info.mode))
           << "owner:            " << user_name(info.uid) << " (uid " << info.uid << ", gid " << info.gid << ")\n";
  } else {
    io.out << "mode, owner:      unknown: /dev/mqueue is not mounted (" << admin::mqueue_mount_hint << ")\n";
  }
  const admin::QueueHolders holders = admin::scan_queue_holders();
  std::string held;
  for (const pid_t pid : holders.of(name)) {
    if (pid != ::getpid()) {  // not this very command
      held += fmt::format("{}pid {} ({})", held.empty() ? "" : ", ", pid, process_name(pid));
    }
  }
  io.out << "held open by:     " << (held.empty() ? "nobody" : held) << std::endl;
  return exit_ok;
}

int mq_unlink(const QueueCommand& command, Io& io) {
  const std::string& name = command.name;
  check_queue_name(name);
  if (!MessageQueue::unlink(name)) {
    const int err = errno;
    throw Error(err == ENOENT ? Errc::not_found : Errc::system,
                "cannot unlink message queue " + name + ": " + std::strerror(err));
  }
  io.out << "unlinked " << name << std::endl;
  return exit_ok;
}

int mq_ls(const QueueCommand& command, Io& io) {
  const std::vector<admin::ObjectInfo> queues = admin::list_mqueues(command.starts_with);
  if (queues.empty()) {
    io.out << "no message queues" << (command.starts_with.empty() ? "" : " starting with '" + command.starts_with + "'")
           << " in /dev/mqueue" << std::endl;
    return exit_ok;
  }
  io.out << fmt::format("{:<44} {:>6} {:>6} {:>8} {:>8}  {:<10} {}", "NAME", "MSGS", "MAX", "MSGSIZE", "BYTES", "MODE",
                        "OWNER")
         << "\n";
  for (const admin::ObjectInfo& info : queues) {
    std::string pending = "-";
    std::string max = "-";
    std::string size = "-";
    try {
      const MessageQueue queue = MessageQueue::open(info.name, MessageQueue::Access::read, true);
      const MessageQueue::Attributes attributes = queue.attributes();
      pending = std::to_string(attributes.pending);
      max = std::to_string(attributes.max_messages);
      size = std::to_string(attributes.message_size);
    } catch (const Error&) {
      // Not readable by us: the file's figures still show.
    }
    io.out << fmt::format("{:<44} {:>6} {:>6} {:>8} {:>8}  {:<10} {}", info.name, pending, max, size, info.size,
                          permission_text(info.mode), user_name(info.uid))
           << "\n";
  }
  io.out.flush();
  return exit_ok;
}

}  // namespace shmsnap::app
