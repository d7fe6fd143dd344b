// NatsServer: nats-server child processes for the bridge tests.
#include "nats_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

namespace shmsnap::test {
namespace {

bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

}  // namespace

int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string nats_server_path() {
  for (const char* candidate : {"/usr/bin/nats-server", "/usr/local/bin/nats-server", "/usr/sbin/nats-server"}) {
    if (::access(candidate, X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

NatsServer::NatsServer(Options options) : options_(std::move(options)), auto_port_(options_.port == 0) {
  if (options_.port == 0) {
    options_.port = free_tcp_port();
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "shmsnap-nats-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  directory_ = pattern;
}

NatsServer::~NatsServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

void NatsServer::start() {
  // A port picked by free_tcp_port() may be taken by a parallel test before the
  // server binds it: a server that never ran yet retries on another free port.
  for (int attempt = 0;; ++attempt) {
    if (launch()) {
      started_once_ = true;
      return;
    }
    if (started_once_ || !auto_port_ || attempt == 3) {
      throw std::runtime_error("nats-server exited at start; see " + (directory_ / (options_.name + ".log")).string());
    }
    options_.port = free_tcp_port();
  }
}

bool NatsServer::launch() {
  std::vector<std::string> argv{nats_server_path(),
                                "-js",
                                "-a",
                                "127.0.0.1",
                                "-p",
                                std::to_string(options_.port),
                                "-sd",
                                (directory_ / "store").string(),
                                "-n",
                                options_.name,
                                "-l",
                                (directory_ / (options_.name + ".log")).string()};
  if (!options_.extra_config.empty()) {
    const auto config = directory_ / "server.conf";
    std::ofstream(config) << options_.extra_config << '\n';
    argv.insert(argv.end(), {"-c", config.string()});
  }
  if (options_.cluster_port != 0) {
    std::string routes;
    for (const int port : options_.route_ports) {
      routes += (routes.empty() ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(port);
    }
    argv.insert(argv.end(), {"--cluster_name", "shmsnap-test", "--cluster",
                             "nats://127.0.0.1:" + std::to_string(options_.cluster_port), "--routes", routes});
  }
  process_ = std::make_unique<ChildProcess>(argv);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!accepts(options_.port)) {
    if (process_->wait_exit(std::chrono::milliseconds(0))) {
      process_.reset();
      return false;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("nats-server did not accept connections within 30 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void NatsServer::stop() {
  if (!process_) {
    return;
  }
  process_->signal(SIGTERM);
  if (!process_->wait_exit(std::chrono::seconds(20))) {
    process_->signal(SIGKILL);
    (void)process_->wait_exit(std::chrono::seconds(10));
  }
  process_.reset();
}

void NatsServer::kill() {
  if (!process_) {
    return;
  }
  process_->signal(SIGKILL);
  (void)process_->wait_exit(std::chrono::seconds(10));
  process_.reset();
}

void NatsServer::signal(int signal) {
  if (process_) {
    process_->signal(signal);
  }
}

std::vector<std::unique_ptr<NatsServer>> start_three_node_cluster() {
  const std::vector<int> cluster_ports{free_tcp_port(), free_tcp_port(), free_tcp_port()};
  std::vector<std::unique_ptr<NatsServer>> nodes;
  for (std::size_t index = 0; index < cluster_ports.size(); ++index) {
    std::vector<int> routes;
    for (std::size_t other = 0; other < cluster_ports.size(); ++other) {
      if (other != index) {
        routes.push_back(cluster_ports[other]);
      }
    }
    nodes.push_back(std::make_unique<NatsServer>(NatsServer::Options{
        .name = "n" + std::to_string(index + 1), .cluster_port = cluster_ports[index], .route_ports = routes}));
  }
  for (auto& node : nodes) {
    node->start();
  }
  return nodes;
}

}  // namespace shmsnap::test
