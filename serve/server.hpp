// Server: `shmsnap serve` as an object, so tests can run it in-process as well as
// through the binary. The constructor binds every listener (errors surface before
// anything runs) and starts the TopicSampler thread; run() drives all sockets on
// the calling thread until stop() (any thread) or until the caller's stop flag
// (set by the CLI's SIGINT/SIGTERM handler) turns true.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>

#include "serve_options.hpp"

namespace shmsnap::serve {

class Server {
 public:
  /// Validates `options`, binds, starts sampling. Throws Error (invalid_argument,
  /// busy, permission_denied) naming the address or option and the fix.
  explicit Server(const Options& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Serves until stop() or until `stop_requested` is true (checked every 100 ms).
  void run(const std::atomic<bool>& stop_requested);
  /// Makes run() return. Thread-safe.
  void stop();

  /// The bound dashboard/metrics address (the real port when 0 was asked for).
  [[nodiscard]] Endpoint http_endpoint() const;
  /// The bound Foxglove address, when --foxglove was given.
  [[nodiscard]] std::optional<Endpoint> foxglove_endpoint() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace shmsnap::serve
