// `shmsnap serve` as users run it: a real publisher, the real `shmsnap serve`
// binary on a free loopback port, and plain sockets as clients (well-behaved and
// hostile). Every wait polls with a deadline; teardown leaves nothing behind.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "shmsnap/clock.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/region.hpp"
#include "support/fixture.hpp"
#include "support/region_tamper.hpp"

namespace shmsnap::test {
namespace {

using namespace std::chrono_literals;

/// A connected loopback TCP socket, closed on destruction.
class Socket {
 public:
  explicit Socket(int port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }
  /// Reads until `marker` arrived (true) or the peer closes / 10 s of silence.
  bool receive_until(std::string_view marker) {
    std::string text;
    char byte = 0;
    while (text.find(marker) == std::string::npos) {
      if (::recv(fd_, &byte, 1, 0) != 1) {
        return false;
      }
      text.push_back(byte);
    }
    return true;
  }
  /// The status code of the response that starts now (its status line only: the
  /// connection may stay open, as an event stream or a WebSocket does); 0 when none.
  int receive_status() {
    std::string line;
    char byte = 0;
    while (line.size() < 64 && line.find("\r\n") == std::string::npos) {
      if (::recv(fd_, &byte, 1, 0) != 1) {
        break;
      }
      line.push_back(byte);
    }
    return line.rfind("HTTP/1.1 ", 0) == 0 && line.size() >= 12 ? std::stoi(line.substr(9, 3)) : 0;
  }
  /// Everything until the peer closes (or 10 s of silence).
  std::string receive_all() {
    std::string text;
    char buffer[4096];
    for (;;) {
      const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
      if (got <= 0) {
        return text;
      }
      text.append(buffer, static_cast<std::size_t>(got));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

struct Response {
  int status = 0;
  std::string body;
};

Response parse_response(const std::string& text) {
  Response response;
  if (text.rfind("HTTP/1.1 ", 0) == 0 && text.size() >= 12) {
    response.status = std::stoi(text.substr(9, 3));
  }
  const auto end = text.find("\r\n\r\n");
  if (end != std::string::npos) {
    response.body = text.substr(end + 4);
  }
  return response;
}

Response http_get(int port, const std::string& target, const std::string& extra_headers = "") {
  Socket socket(port);
  if (!socket.connected() || !socket.send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                                          extra_headers + "\r\n")) {
    return {};
  }
  return parse_response(socket.receive_all());
}

/// The value of an unlabelled sample `name` in a text exposition, or -1.
double metric_value(const std::string& body, const std::string& name) {
  const auto at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size() + 2));
}

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = patience) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return predicate();
}

class ServeTest : public ProcessTest {
 protected:
  void TearDown() override {
    for (auto& child : children_) {
      child->signal(SIGTERM);  // serve says BYE and unlinks its queues; publishers shut down cleanly
      (void)child->wait_exit(patience);
    }
    ProcessTest::TearDown();
  }

  ChildProcess& start_publisher(const std::string& topic, const std::string& rate = "200") {
    children_.emplace_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{bin_dir() + "/shmsnap-publisher", "--topic", topic, "--schema", "robot.pose", "--rate",
                                 rate, "--prefix", prefix_}));
    EXPECT_TRUE(children_.back()->wait_for_line("ready", patience)) << children_.back()->output();
    return *children_.back();
  }

  /// Starts `shmsnap serve` on a free port; returns the port.
  int start_serve(std::vector<std::string> extra = {}, const ChildOptions& options = {}) {
    std::vector<std::string> argv{bin_dir() + "/shmsnap", "serve", "--listen", "127.0.0.1:0", "--prefix", prefix_,
                                  "--sample-ms",          "50"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    children_.emplace_back(std::make_unique<ChildProcess>(std::move(argv), options));
    serve_ = children_.back().get();
    const auto line = serve_->wait_for_line("serving", patience);
    EXPECT_TRUE(line.has_value());
    if (!line) {
      return 0;
    }
    const std::size_t start = line->find("http=");
    const std::string http = line->substr(start, line->find(' ', start) - start);
    return std::stoi(http.substr(http.rfind(':') + 1));
  }

  std::uint64_t published(const std::string& topic) {
    const RegionReader reader = RegionReader::open(TopicNames(prefix_, topic).region());
    return reader.header().published_count.load();
  }

  ChildProcess* serve_ = nullptr;
};

TEST_F(ServeTest, MetricsOfALiveSystemPassPromtool) {
  start_publisher("pose");
  const int port = start_serve();
  const std::string up = "shmsnap_topic_publisher_up{prefix=\"" + prefix_ + "\",topic=\"pose\"} 1";
  Response metrics;
  ASSERT_TRUE(eventually([&] {
    metrics = http_get(port, "/metrics");
    return metrics.status == 200 && metrics.body.find(up) != std::string::npos &&
           metrics.body.find("shmsnap_subscriber_alive{") != std::string::npos;
  })) << metrics.body;
  for (const char* family :
       {"shmsnap_topic_publisher_pid", "shmsnap_topic_epoch", "shmsnap_topic_published_total",
        "shmsnap_topic_publish_rate_hertz", "shmsnap_topic_snapshot_age_seconds", "shmsnap_topic_heartbeat_age_seconds",
        "shmsnap_topic_subscribers", "shmsnap_topic_notified_total", "shmsnap_topic_coalesced_total",
        "shmsnap_topic_read_retries_total", "shmsnap_subscriber_notified_total"}) {
    EXPECT_NE(metrics.body.find(std::string(family) + "{"), std::string::npos) << family;
  }
  const std::string path = ::testing::TempDir() + "/serve_metrics_" + prefix_ + ".txt";
  std::ofstream(path) << metrics.body;
  ChildProcess promtool({"/bin/sh", "-c", "promtool check metrics < '" + path + "' 2>&1"});
  const auto code = promtool.wait_exit(patience);
  while (promtool.read_line(1s)) {
  }
  std::remove(path.c_str());
  EXPECT_EQ(code, 0) << promtool.output();
}

/// The value of the sample `family{...topic="T"...}` in a text exposition, or -1.
double topic_metric(const std::string& body, const std::string& family, const std::string& topic) {
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(family + "{", 0) == 0 && line.find("topic=\"" + topic + "\"") != std::string::npos) {
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return -1;
}

TEST_F(ServeTest, PublishRatesOfSlowAndFastTopicsAreExact) {
  // Measured over one sample the old rate read a 2 Hz topic as 0 or 20 Hz (at 50 ms);
  // from the publisher's seq and stamps over a window it is exact, slow or fast.
  const std::vector<std::pair<std::string, double>> topics{
      {"half", 0.5}, {"two", 2.0}, {"fifty", 50.0}, {"thousand", 1000.0}};
  for (const auto& [topic, hertz] : topics) {
    start_publisher(topic, std::to_string(hertz));
  }
  const int port = start_serve();
  // Wait until each rate spans three periods of its topic (at least 2 s): enough
  // publishes that the rate no longer depends on when the first was seen.
  const auto window_filled = [&](const nlohmann::json& listing) {
    std::size_t filled = 0;
    for (const auto& entry : listing["topics"]) {
      for (const auto& [topic, hertz] : topics) {
        if (entry["topic"] == topic &&
            entry.value("publish_rate_window_seconds", 0.0) >= std::max(3 / hertz, 2.0) - 1e-6) {
          ++filled;
        }
      }
    }
    return filled == topics.size();
  };
  nlohmann::json listing;
  ASSERT_TRUE(eventually(
      [&] {
        listing = nlohmann::json::parse(http_get(port, "/api/topics").body);
        return window_filled(listing);
      },
      patience))
      << listing.dump(1);
  // Three samples in a row (each a new one), by the API and by the metric.
  for (int reading = 0; reading < 3; ++reading) {
    const std::uint64_t sample = listing["sample"].get<std::uint64_t>();
    ASSERT_TRUE(eventually([&] {
      listing = nlohmann::json::parse(http_get(port, "/api/topics").body);
      return listing["sample"].get<std::uint64_t>() > sample;
    }));
    const std::string metrics = http_get(port, "/metrics").body;
    for (const auto& entry : listing["topics"]) {
      for (const auto& [topic, hertz] : topics) {
        if (entry["topic"] == topic) {
          EXPECT_NEAR(entry["publish_rate_hz"].get<double>(), hertz, hertz * 0.05) << topic << " " << entry.dump();
          EXPECT_NEAR(topic_metric(metrics, "shmsnap_topic_publish_rate_hertz", topic), hertz, hertz * 0.05) << topic;
        }
      }
    }
  }
}

TEST_F(ServeTest, ApiFollowsTheValueAndMarksAKilledPublisherStale) {
  const int port = start_serve();
  // A topic that starts after the server appears by itself.
  ChildProcess& publisher = start_publisher("pose", "50");
  std::uint64_t first_seq = 0;
  ASSERT_TRUE(eventually([&] {
    const Response response = http_get(port, "/api/topics/pose");
    if (response.status != 200) {
      return false;
    }
    const auto topic = nlohmann::json::parse(response.body);
    first_seq = topic["value_seq"].get<std::uint64_t>();
    return first_seq > 0 && topic["value"].contains("position") && !topic["stale"].get<bool>();
  }));
  // What the numbers mean rides along with them: units and descriptions by field path.
  const auto detail = nlohmann::json::parse(http_get(port, "/api/topics/pose").body);
  EXPECT_EQ(detail["fields"]["position.x"]["unit"], "m") << detail.dump(2);
  EXPECT_EQ(detail["fields"]["stamp.nanosec"]["unit"], "ns") << detail.dump(2);
  EXPECT_EQ(detail["fields"]["stamp.nanosec"]["description"], "0..999999999") << detail.dump(2);
  ASSERT_TRUE(eventually([&] {
    const auto topic = nlohmann::json::parse(http_get(port, "/api/topics/pose").body);
    return topic["value_seq"].get<std::uint64_t>() > first_seq;
  }));

  publisher.signal(SIGKILL);
  (void)publisher.wait_exit(patience);
  ASSERT_TRUE(eventually([&] {
    const auto topics = nlohmann::json::parse(http_get(port, "/api/topics").body);
    return topics["topics"].size() == 1 && topics["topics"][0]["stale"].get<bool>() &&
           !topics["topics"][0]["publisher_up"].get<bool>();
  }));
  // The killed publisher's region and queue stay behind; clean them as an operator would.
  ChildProcess clean({bin_dir() + "/shmsnap", "clean", "--prefix", prefix_});
  EXPECT_EQ(clean.wait_exit(patience), 0);
}

TEST_F(ServeTest, SocketModeServesTheSocketsTopicsAndMarksAKilledPublisherStale) {
  const SocketDirectory sockets;
  const int port = start_serve({"--socket-dir", sockets.path()});
  children_.emplace_back(std::make_unique<ChildProcess>(
      std::vector<std::string>{bin_dir() + "/shmsnap-publisher", "--topic", "pose", "--schema", "robot.pose", "--rate",
                               "50", "--prefix", prefix_, "--socket-dir", sockets.path()}));
  ChildProcess& publisher = *children_.back();
  ASSERT_TRUE(publisher.wait_for_line("ready", patience)) << publisher.output();
  std::uint64_t first_seq = 0;
  ASSERT_TRUE(eventually([&] {
    const Response response = http_get(port, "/api/topics/pose");
    if (response.status != 200) {
      return false;
    }
    const auto topic = nlohmann::json::parse(response.body);
    first_seq = topic["value_seq"].get<std::uint64_t>();
    return first_seq > 0 && topic["value"]["frame_id"] == "pose" && !topic["stale"].get<bool>() &&
           topic["region"] == sockets.path() + "/pose.sock" && topic["publisher_pid"] == publisher.pid();
  }));
  ASSERT_TRUE(eventually([&] {
    const auto topic = nlohmann::json::parse(http_get(port, "/api/topics/pose").body);
    return topic["value_seq"].get<std::uint64_t>() > first_seq;
  }));

  // Its socket stays behind: the topic stays, stale, with the last value, once the
  // server's subscriber saw the connection end.
  publisher.signal(SIGKILL);
  (void)publisher.wait_exit(patience);
  nlohmann::json topic;
  ASSERT_TRUE(eventually([&] {
    topic = nlohmann::json::parse(http_get(port, "/api/topics/pose").body);
    return topic["stale"].get<bool>() && !topic["publisher_up"].get<bool>() &&
           topic["problem"].get<std::string>().find("no live publisher") != std::string::npos;
  })) << topic.dump();
  EXPECT_EQ(topic["value"]["frame_id"], "pose");
  EXPECT_EQ(topic["valid"], true) << "the last region's description stays, as a dead publisher's region would";
  EXPECT_EQ(nlohmann::json::parse(http_get(port, "/api/topics").body)["topics"].size(), 1U);
}

TEST_F(ServeTest, TokenGuardsTheDataButNotThePage) {
  start_publisher("pose");
  const int port = start_serve({"--token", "s3cret"});
  EXPECT_EQ(http_get(port, "/metrics").status, 401);
  EXPECT_EQ(http_get(port, "/api/topics").status, 401);
  EXPECT_EQ(http_get(port, "/api/topics", "Authorization: Bearer wrong\r\n").status, 401);
  EXPECT_EQ(http_get(port, "/api/topics", "Authorization: Bearer s3cret\r\n").status, 200);
  EXPECT_EQ(http_get(port, "/metrics?token=s3cret").status, 200);
  const Response page = http_get(port, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<script src=\"app.js\">"), std::string::npos);
  EXPECT_EQ(http_get(port, "/app.js").status, 200);
  EXPECT_EQ(http_get(port, "/nothing").status, 404);
}

TEST_F(ServeTest, AnswersOnlyRequestsForALoopbackHost) {
  const int port = start_serve();
  for (const char* host : {"127.0.0.1", "localhost:9464", "[::1]:80", "127.1.2.3"}) {
    Socket socket(port);
    ASSERT_TRUE(
        socket.send(std::string("GET /api/topics HTTP/1.1\r\nHost: ") + host + "\r\nConnection: close\r\n\r\n"));
    EXPECT_EQ(parse_response(socket.receive_all()).status, 200) << host;
  }
  // A page on evil.example whose name was rebound to 127.0.0.1 gets nothing.
  for (const char* host : {"evil.example", "evil.example:9464", "127.0.0.1.evil.example", "127.0.0.1x"}) {
    Socket socket(port);
    ASSERT_TRUE(
        socket.send(std::string("GET /api/topics HTTP/1.1\r\nHost: ") + host + "\r\nConnection: close\r\n\r\n"));
    EXPECT_EQ(parse_response(socket.receive_all()).status, 403) << host;
  }
}

TEST_F(ServeTest, RefusesANonLoopbackAddressWithoutAllowRemote) {
  ChildProcess serve({bin_dir() + "/shmsnap", "serve", "--listen", "0.0.0.0:0", "--prefix", prefix_});
  EXPECT_EQ(serve.wait_exit(patience), 2);
  ChildProcess bad({bin_dir() + "/shmsnap", "serve", "--listen", "nonsense", "--prefix", prefix_});
  EXPECT_EQ(bad.wait_exit(patience), 2);
}

TEST_F(ServeTest, HostileClientsStayBoundedAndThePublisherKeepsPublishing) {
  start_publisher("pose", "500");
  const int port = start_serve({"--max-connections", "32", "--max-send-kib", "16", "--header-timeout", "2"});
  ASSERT_TRUE(eventually([&] { return http_get(port, "/api/topics/pose").status == 200; }));
  const std::uint64_t published_before = published("pose");

  {  // Oversized headers: 431, never an unbounded buffer.
    Socket socket(port);
    ASSERT_TRUE(socket.connected());
    (void)socket.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n");
    EXPECT_EQ(parse_response(socket.receive_all()).status, 431);
  }
  for (const std::string& garbage : {std::string("\x01\x02\x03 garbage\r\n\r\n"), std::string("GET\r\n\r\n"),
                                     std::string("GET / HTTP/9.9\r\n\r\n"), std::string("POST / HTTP/1.1\r\n\r\n")}) {
    Socket socket(port);
    ASSERT_TRUE(socket.connected());
    (void)socket.send(garbage);
    const int status = parse_response(socket.receive_all()).status;
    EXPECT_TRUE(status == 400 || status == 405) << status;
  }
  {  // A request that never completes is closed by the header timeout.
    Socket socket(port);
    ASSERT_TRUE(socket.connected());
    (void)socket.send("GET / HTTP/1.1\r\nHost: x\r\n");
    EXPECT_EQ(socket.receive_all(), "");
  }
  {  // Event streams that never read are dropped once their buffer limit is reached.
    std::vector<std::unique_ptr<Socket>> readers;
    for (int index = 0; index < 4; ++index) {
      readers.push_back(std::make_unique<Socket>(port, 4096));
      ASSERT_TRUE(readers.back()->send("GET /events?topic=pose HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    }
    EXPECT_TRUE(eventually([&] {
      return metric_value(http_get(port, "/metrics").body, "shmsnap_serve_slow_clients_dropped_total") >= 4;
    }));
  }
  {  // A flood of connections: those over the limit are refused, the server keeps answering.
    // A thousand, or what this process's descriptor limit leaves room for.
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    const auto count = static_cast<int>(std::min<rlim_t>(1000, files.rlim_cur > 200 ? files.rlim_cur - 100 : 100));
    std::vector<std::unique_ptr<Socket>> flood;
    for (int index = 0; index < count; ++index) {
      flood.push_back(std::make_unique<Socket>(port));
    }
    EXPECT_TRUE(eventually(
        [&] { return metric_value(http_get(port, "/metrics").body, "shmsnap_serve_connections_refused_total") > 0; }));
  }
  EXPECT_TRUE(eventually([&] { return http_get(port, "/api/topics").status == 200; }));
  EXPECT_TRUE(eventually([&] { return published("pose") > published_before + 100; }));
  EXPECT_FALSE(serve_->wait_exit(1ms).has_value()) << "serve exited";
}

TEST_F(ServeTest, SubscriberDaemonExportsItsCountersAndLatencyHistogram) {
  start_publisher("pose");
  children_.emplace_back(std::make_unique<ChildProcess>(
      std::vector<std::string>{bin_dir() + "/shmsnap-subscriber", "--topic", "pose", "--id", "metered", "--prefix",
                               prefix_, "--metrics", "127.0.0.1:0", "--log-level", "warn"}));
  const auto line = children_.back()->wait_for_line("metrics http=", patience);
  ASSERT_TRUE(line.has_value()) << children_.back()->output();
  const int port = std::stoi(line->substr(line->rfind(':') + 1));
  Response metrics;
  ASSERT_TRUE(eventually([&] {
    metrics = http_get(port, "/metrics");
    return metrics.body.find("shmsnap_subscriber_latency_seconds_bucket{subscriber=\"metered\",topic=\"pose\",le=") !=
               std::string::npos &&
           metrics.body.find("shmsnap_subscriber_latency_seconds_count{subscriber=\"metered\",topic=\"pose\"} 0") ==
               std::string::npos &&
           metrics.body.find("shmsnap_subscriber_attached{subscriber=\"metered\",topic=\"pose\"} 1") !=
               std::string::npos;
  })) << metrics.body;
  EXPECT_NE(metrics.body.find("shmsnap_subscriber_refreshes_total{"), std::string::npos);
  EXPECT_EQ(http_get(port, "/other").status, 404);
  const std::string path = ::testing::TempDir() + "/subscriber_metrics_" + prefix_ + ".txt";
  std::ofstream(path) << metrics.body;
  ChildProcess promtool({"/bin/sh", "-c", "promtool check metrics < '" + path + "' 2>&1"});
  const auto code = promtool.wait_exit(patience);
  while (promtool.read_line(1s)) {
  }
  std::remove(path.c_str());
  EXPECT_EQ(code, 0) << promtool.output();
}

TEST_F(ServeTest, AlertRulesUseOnlyMetricsALiveServerAndDaemonExpose) {
  // The shipped rules (serve/prometheus/shmsnap_alerts.yml, unit-tested by promtool
  // against hand-made series) must name the series a live system really exposes:
  // a renamed metric would leave an alert that silently never fires.
  start_publisher("pose");
  children_.emplace_back(std::make_unique<ChildProcess>(
      std::vector<std::string>{bin_dir() + "/shmsnap-subscriber", "--topic", "pose", "--id", "alerting", "--prefix",
                               prefix_, "--metrics", "127.0.0.1:0", "--log-level", "warn"}));
  const auto line = children_.back()->wait_for_line("metrics http=", patience);
  ASSERT_TRUE(line.has_value()) << children_.back()->output();
  const int daemon_port = std::stoi(line->substr(line->rfind(':') + 1));
  const int serve_port = start_serve();
  std::string exposed;
  ASSERT_TRUE(eventually([&] {
    exposed = http_get(serve_port, "/metrics").body + http_get(daemon_port, "/metrics").body;
    return exposed.find("shmsnap_subscriber_alive{") != std::string::npos &&
           exposed.find("shmsnap_subscriber_latency_seconds_bucket{") != std::string::npos &&
           exposed.find("shmsnap_topic_heartbeat_age_seconds{") != std::string::npos;
  })) << exposed;
  std::ifstream file(SHMSNAP_ALERT_RULES);
  ASSERT_TRUE(file.is_open()) << SHMSNAP_ALERT_RULES;
  const std::string rules((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::set<std::string> names;
  for (std::size_t at = rules.find("shmsnap_"); at != std::string::npos; at = rules.find("shmsnap_", at + 1)) {
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(rules[at - 1])) != 0 || rules[at - 1] == '_' ||
                   rules[at - 1] == '`' || rules[at - 1] == '-' || rules[at - 1] == '/')) {
      continue;  // inside another word or a file path of the comments, not a series name
    }
    std::size_t end = at;
    while (end < rules.size() && (std::isalnum(static_cast<unsigned char>(rules[end])) != 0 || rules[end] == '_')) {
      ++end;
    }
    names.insert(rules.substr(at, end - at));
  }
  ASSERT_GE(names.size(), 10U) << rules;
  for (const std::string& name : names) {
    // Labelled ("name{") or not ("name value").
    EXPECT_TRUE(exposed.find("\n" + name + "{") != std::string::npos ||
                exposed.find("\n" + name + " ") != std::string::npos)
        << name << " is not exposed";
  }
}

/// A masked client text frame (RFC 6455 5.2), as a browser would send it.
std::string websocket_text_frame(const std::string& payload) {
  std::string frame = "\x81";
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(0x80 | payload.size()));
  } else {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xFF));
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  frame.append(mask, 4);
  for (std::size_t index = 0; index < payload.size(); ++index) {
    frame.push_back(static_cast<char>(payload[index] ^ mask[index % 4]));
  }
  return frame;
}

TEST_F(ServeTest, FoxgloveClientThatStopsReadingIsDropped) {
  start_publisher("pose", "500");
  start_publisher("other", "500");
  const int port = start_serve({"--foxglove", "127.0.0.1:0", "--max-send-kib", "16", "--sample-ms", "10"});
  const std::string& line = serve_->output();
  const int foxglove_port = std::stoi(line.substr(line.rfind(':') + 1));
  ASSERT_TRUE(eventually([&] { return http_get(port, "/api/topics/other").status == 200; }));
  const std::uint64_t published_before = published("pose");

  Socket stalled(foxglove_port, 4096);  // a tiny receive window fills quickly
  ASSERT_TRUE(stalled.connected());
  ASSERT_TRUE(
      stalled.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: foxglove.websocket.v1\r\n\r\n"));
  ASSERT_TRUE(stalled.receive_until("\r\n\r\n"));  // 101 Switching Protocols
  // Channels are numbered from 1; subscribe to both topics' ids, then never read.
  ASSERT_TRUE(stalled.send(
      websocket_text_frame(R"({"op":"subscribe","subscriptions":[{"id":1,"channelId":1},{"id":2,"channelId":2}]})")));
  EXPECT_TRUE(eventually(
      [&] { return metric_value(http_get(port, "/metrics").body, "shmsnap_serve_slow_clients_dropped_total") >= 1; }));
  EXPECT_TRUE(eventually([&] { return published("pose") > published_before + 100; }));
  EXPECT_FALSE(serve_->wait_exit(1ms).has_value()) << "serve exited";
}

/// The port of the Foxglove listener in serve's "serving http=... foxglove=H:P" line.
int foxglove_port_of(const ChildProcess& serve) {
  const std::string& line = serve.output();
  return std::stoi(line.substr(line.rfind(':') + 1));
}

/// The status of a Foxglove WebSocket upgrade sent with `headers` ("Name: value\r\n"...).
int websocket_upgrade_status(int port, const std::string& host, const std::string& headers) {
  Socket socket(port);
  if (!socket.send("GET / HTTP/1.1\r\nHost: " + host +
                   "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: foxglove.websocket.v1\r\n" +
                   headers + "\r\n")) {
    return 0;
  }
  return socket.receive_status();
}

/// The status of a GET /events (an event stream stays open) sent with `headers`.
int event_stream_status(int port, const std::string& host, const std::string& headers) {
  Socket socket(port);
  if (!socket.send("GET /events?topic=pose HTTP/1.1\r\nHost: " + host + "\r\n" + headers + "\r\n")) {
    return 0;
  }
  return socket.receive_status();
}

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A WebSocket has no CORS: without an Origin check any site open in the operator's
// browser could read every topic through the Foxglove endpoint (and try the rest).
TEST_F(ServeTest, APageFromAnotherOriginIsRefusedOnTheDataRoutesTheEventStreamAndTheWebSocket) {
  start_publisher("pose");
  const std::string log_path = ::testing::TempDir() + "/serve_origin_" + prefix_ + ".log";
  const int port = start_serve({"--foxglove", "127.0.0.1:0", "--allow-origin", "https://dash.example:8443"},
                               ChildOptions{.stderr_path = log_path});
  const int foxglove_port = foxglove_port_of(*serve_);
  ASSERT_TRUE(eventually([&] { return http_get(port, "/api/topics/pose").status == 200; }));
  const std::string http_host = "127.0.0.1:" + std::to_string(port);
  const std::string foxglove_host = "127.0.0.1:" + std::to_string(foxglove_port);

  const std::string evil = "Origin: http://evil.example\r\n";
  for (const char* target : {"/api/topics", "/api/topics/pose", "/metrics"}) {
    EXPECT_EQ(http_get(port, target, evil).status, 403) << target;
  }
  EXPECT_EQ(event_stream_status(port, http_host, evil), 403);
  EXPECT_EQ(websocket_upgrade_status(foxglove_port, foxglove_host, evil), 403);
  // A rebound name does not make a page same-origin with the loopback server.
  EXPECT_EQ(websocket_upgrade_status(foxglove_port, foxglove_host, "Origin: http://127.0.0.1.evil.example\r\n"), 403);
  // The page itself holds no data and stays reachable.
  EXPECT_EQ(http_get(port, "/", evil).status, 200);

  // No Origin (curl, scrapers, the Foxglove npm client), the server's own page, and
  // the origin the operator allowed.
  for (const std::string& origin : {std::string(), "Origin: http://" + http_host + "\r\n",
                                    "Origin: http://localhost:" + std::to_string(port) + "\r\n",
                                    std::string("Origin: https://dash.example:8443\r\n")}) {
    EXPECT_EQ(http_get(port, "/api/topics", origin).status, 200) << origin;
    EXPECT_EQ(event_stream_status(port, http_host, origin), 200) << origin;
    EXPECT_EQ(websocket_upgrade_status(foxglove_port, foxglove_host, origin), 101) << origin;
  }
  EXPECT_EQ(websocket_upgrade_status(foxglove_port, foxglove_host, "Origin: http://" + foxglove_host + "\r\n"), 101);

  Response metrics;
  EXPECT_TRUE(eventually([&] {
    metrics = http_get(port, "/metrics");
    return metric_value(metrics.body, "shmsnap_serve_origin_refused_total") >= 6;
  })) << metrics.body;
  // The operator learns which page was refused and how to allow it.
  EXPECT_TRUE(eventually([&] {
    return read_file(log_path).find("Origin 'http://evil.example'") != std::string::npos &&
           read_file(log_path).find("--allow-origin http://evil.example") != std::string::npos;
  })) << read_file(log_path);
  std::remove(log_path.c_str());
}

TEST_F(ServeTest, AnAllowedOriginMustBeAnOriginNotAPattern) {
  for (const char* origin : {"*", "dash.example", "https://dash.example/path", "https://"}) {
    ChildProcess serve(
        {bin_dir() + "/shmsnap", "serve", "--listen", "127.0.0.1:0", "--prefix", prefix_, "--allow-origin", origin});
    EXPECT_EQ(serve.wait_exit(patience), 2) << origin;
  }
}

// Two regions whose descriptors the codec refuses: each is parsed once (sampler and
// Foxglove channels), not at every sample, and the server keeps answering and says
// what is wrong with them.
TEST_F(ServeTest, RefusedDescriptorsAreParsedOnceAndTheServerKeepsAnswering) {
  const auto hostile = [](std::size_t fields) {
    // Valid JSON that is expensive to read and wrong at the end: every field
    // overlaps the first.
    std::string descriptor = R"({"name":"hostile.pose","version":1,"size":8,"align":8,"fields":[)";
    for (std::size_t index = 0; index < fields; ++index) {
      descriptor += R"({"name":"f)" + std::to_string(index) + R"(","offset":0,"size":8,"type":"u64"},)";
    }
    descriptor += R"({"name":"last","offset":0,"size":8,"type":"nonsense"}]})";
    return descriptor;
  };
  const std::string first = hostile(3000);
  const std::string second = std::string(200 * 1024, '{');  // not even JSON
  std::vector<std::unique_ptr<UntypedPublisher>> publishers;
  for (const auto& [topic, descriptor] : {std::pair{"hostile_a", &first}, std::pair{"hostile_b", &second}}) {
    publishers.push_back(std::make_unique<UntypedPublisher>(
        topic, SchemaInfo{.name = "hostile.pose", .version = 1, .fingerprint = 1, .size = 8, .descriptor = *descriptor},
        8, PublisherOptions{.prefix = prefix_}));
  }
  std::jthread publishing([&](const std::stop_token& stop) {
    for (std::uint64_t value = 1; !stop.stop_requested(); ++value) {  // a new value at every sample
      for (auto& publisher : publishers) {
        publisher->publish(&value, sizeof value);
      }
      std::this_thread::sleep_for(2ms);
    }
  });
  const int port = start_serve({"--foxglove", "127.0.0.1:0", "--sample-ms", "10"});

  nlohmann::json topics;
  EXPECT_TRUE(eventually([&] {
    const Response response = http_get(port, "/api/topics");
    if (response.status != 200) {
      return false;
    }
    topics = nlohmann::json::parse(response.body);
    int refused = 0;
    for (const auto& topic : topics["topics"]) {
      refused += topic.value("descriptor_refused", false) &&
                 topic["problem"].get<std::string>().find("descriptor") != std::string::npos;
    }
    return refused == 2;
  })) << topics.dump(1);
  // Many samples later, with a new value at each, every request is still answered
  // and the descriptors were parsed once per reader.
  const auto sample_now = [&] {
    return nlohmann::json::parse(http_get(port, "/api/topics").body)["sample"].get<int>();
  };
  const int sample = sample_now();
  EXPECT_TRUE(eventually([&] { return sample_now() > sample + 100; }));
  const Response metrics = http_get(port, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  const double parses = metric_value(metrics.body, "shmsnap_serve_descriptor_parses_total");
  EXPECT_GE(parses, 2) << metrics.body;
  EXPECT_LE(parses, 4) << metrics.body;  // hostile_a and hostile_b, by the sampler and at most by the channels
  EXPECT_NE(metrics.body.find("shmsnap_topic_descriptor_refused{prefix=\"" + prefix_ + "\",topic=\"hostile_a\"} 1"),
            std::string::npos);
  const Response detail = http_get(port, "/api/topics/hostile_b");
  EXPECT_EQ(detail.status, 200);
  const auto parsed = nlohmann::json::parse(detail.body, nullptr, false);
  EXPECT_TRUE(parsed.is_object() && parsed["descriptor"].is_null()) << detail.body;
}

// A heartbeat later than now (a corrupt or tampered header) is reported as such,
// never as a negative age.
TEST_F(ServeTest, AHeartbeatInTheFutureIsReportedNotANegativeAge) {
  ChildProcess& publisher = start_publisher("pose");
  const int port = start_serve();
  ASSERT_TRUE(eventually([&] { return http_get(port, "/api/topics/pose").status == 200; }));
  publisher.signal(SIGSTOP);  // its heartbeat stays as we write it
  {
    RegionTamper tamper(TopicNames(prefix_, "pose").region());
    tamper.header().heartbeat_ns.store(monotonic_ns() + 3600'000'000'000);
  }
  const std::string labels = "{prefix=\"" + prefix_ + "\",topic=\"pose\"}";
  Response metrics;
  const bool reported = eventually([&] {
    metrics = http_get(port, "/metrics");
    return metrics.body.find("shmsnap_topic_heartbeat_in_future" + labels + " 1") != std::string::npos;
  });
  const auto topic = nlohmann::json::parse(http_get(port, "/api/topics/pose").body, nullptr, false);
  publisher.signal(SIGCONT);
  ASSERT_TRUE(topic.is_object());
  EXPECT_TRUE(reported) << metrics.body;
  EXPECT_EQ(metrics.body.find("shmsnap_topic_heartbeat_age_seconds" + labels + " -"), std::string::npos)
      << metrics.body;
  EXPECT_TRUE(topic["heartbeat_age_seconds"].is_null() || topic["heartbeat_age_seconds"].get<double>() >= 0)
      << topic.dump();
  EXPECT_TRUE(topic.value("heartbeat_in_future", false)) << topic.dump();
}

}  // namespace
}  // namespace shmsnap::test
