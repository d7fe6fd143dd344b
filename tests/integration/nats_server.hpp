// Test support for the bridge: real nats-server processes (-js, loopback, a free
// port, storage in a fresh temporary directory), alone or as a 3-node cluster.
// start() waits until the port accepts connections; the destructor stops the
// server (SIGTERM, then SIGKILL) and removes its directory, also after a failure.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/process_runner.hpp"

namespace shmsnap::test {

/// A loopback TCP port nobody listens on now.
int free_tcp_port();

/// Path of nats-server, or "" when it is not installed.
std::string nats_server_path();

class NatsServer {
 public:
  struct Options {
    std::string name = "n1";
    int port = 0;          ///< 0 = a free port
    int cluster_port = 0;  ///< with routes: join a cluster
    std::vector<int> route_ports;
    std::string extra_config;  ///< nats-server config lines (e.g. "max_payload: 512")
  };
  explicit NatsServer(Options options);
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  /// Starts the server and waits (bounded) until its client port accepts.
  void start();
  /// SIGTERM and wait for exit (SIGKILL if it does not stop in time).
  void stop();
  /// SIGKILL and reap: a crash.
  void kill();
  /// Sends `signal` to the running server (SIGSTOP / SIGCONT: a server that stops answering a while).
  void signal(int signal);
  [[nodiscard]] bool running() const noexcept { return process_ != nullptr; }
  [[nodiscard]] std::string url() const { return "nats://127.0.0.1:" + std::to_string(options_.port); }
  [[nodiscard]] int port() const noexcept { return options_.port; }

 private:
  bool launch();

  Options options_;
  bool auto_port_ = false;     // the port was picked here, so another one will do
  bool started_once_ = false;  // clients know the port now: a restart must keep it
  std::filesystem::path directory_;
  std::unique_ptr<ChildProcess> process_;
};

/// Three JetStream nodes routed to each other on loopback, each naming the other
/// two, started. A bucket with 3 replicas survives the loss of any one of them.
std::vector<std::unique_ptr<NatsServer>> start_three_node_cluster();

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns its last value.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return condition();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace shmsnap::test
