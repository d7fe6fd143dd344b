// The publisher's control loop: the control thread, its epoll set (a stop
// eventfd, the control queue, one pidfd per watched subscriber process, and in
// socket mode the listening socket and each connection), the control queue itself
// and the heartbeat word of the region. What a message or a
// death means is its Handler's business (the engine routes it to the registry).
// Threads: the constructor, start(), stop() and close_queue() from the engine's
// owning thread; watch_exit(), watch_descriptor() and forget() from the control
// thread (the Handler's callbacks run there), or from the owning thread before
// start() or once stop() returned.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "shmsnap/detail/message_queue.hpp"

namespace shmsnap::detail {

// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions): owns descriptors and a thread; neither copied nor moved
class ControlLoop {
 public:
  /// What the control thread reports. Its methods run on the control thread.
  class Handler {
   public:
    /// One message read from the control queue, not yet parsed.
    virtual void on_control_message(std::span<const std::byte> message) noexcept = 0;
    /// What is watched under `key` became readable: a process exited (its pidfd),
    /// or a descriptor of watch_descriptor() has input, an EOF or an error.
    virtual void on_ready(std::uint64_t key) noexcept = 0;
    /// After every wake-up, before the heartbeat is stored: periodic work.
    virtual void on_tick() noexcept = 0;
    /// True while work waits for a retry: the loop then wakes every millisecond.
    [[nodiscard]] virtual bool wants_fast_ticks() const noexcept = 0;

    Handler() = default;
    virtual ~Handler() = default;
    Handler(const Handler&) = delete;
    Handler& operator=(const Handler&) = delete;
    Handler(Handler&&) = delete;
    Handler& operator=(Handler&&) = delete;
  };

  /// Where the loop lives and what it wakes for.
  struct Options {
    std::string topic;                      ///< for messages
    std::string control_queue;              ///< the queue's name (TopicNames::control_queue); "": none (socket mode)
    mode_t mode = 0620;                     ///< the queue's mode
    std::chrono::milliseconds period{100};  ///< the heartbeat period
  };

  /// Creates the control queue (replacing a dead publisher's; none when
  /// options.control_queue is empty), the epoll set and the stop eventfd; `heartbeat` is the region's word this loop
  /// stores to; both it and `handler` must outlive the loop. Throws Error.
  ControlLoop(Options options, Handler& handler, std::atomic<std::int64_t>& heartbeat);
  /// Stops the thread and closes the epoll set, the eventfd and the pidfds.
  ~ControlLoop();
  ControlLoop(const ControlLoop&) = delete;
  ControlLoop& operator=(const ControlLoop&) = delete;

  /// Starts the control thread. Throws std::system_error.
  void start();
  /// Wakes the control thread and joins it. Idempotent.
  void stop() noexcept;
  /// After stop(): closes and unlinks the control queue. Idempotent.
  void close_queue() noexcept;

  /// Watches process `pid` for death: on_ready(`key`) when it exits. Without a
  /// pidfd (old kernels, or a pid of another PID namespace: 0) nothing is watched,
  /// and the Handler's periodic sweep is the only death detector.
  void watch_exit(std::uint64_t key, pid_t pid) noexcept;
  /// Watches `descriptor` (not owned: it must stay open until forget(key)) for input
  /// or hang-up: on_ready(`key`). Returns false when epoll refused it.
  bool watch_descriptor(std::uint64_t key, int descriptor) noexcept;
  /// Stops every watch under `key`, closing the pidfds it opened.
  void forget(std::uint64_t key) noexcept;

 private:
  struct Watched {
    std::uint64_t key = 0;
    int descriptor = -1;
    bool owned = false;  // a pidfd this loop opened (closed by it), not a caller's descriptor
  };

  void create_control_queue();
  void close_descriptors() noexcept;
  void run() noexcept;
  void drain_control() noexcept;

  Options options_;
  Handler& handler_;
  std::atomic<std::int64_t>& heartbeat_;
  MessageQueue control_;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  std::vector<Watched> watched_;  // control thread only
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  bool queue_closed_ = false;
};

}  // namespace shmsnap::detail
