#include "chaos_driver.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "shmsnap/admin.hpp"
#include "support/process_runner.hpp"
#include "support/resource_check.hpp"

namespace shmsnap::chaos {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using test::field;

// How long a SIGKILLed child may take to be reaped before the run is abandoned: a
// bound against a hang, generous for a machine loaded on every core.
constexpr milliseconds kill_reap_bound{60'000};

// "state D, wchan X" of a process from /proc, for the report of one that will not die.
std::string kernel_state_of(pid_t pid) {
  const std::string base = "/proc/" + std::to_string(pid);
  std::ifstream stat_file(base + "/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  std::ifstream wchan_file(base + "/wchan");
  std::string wchan((std::istreambuf_iterator<char>(wchan_file)), std::istreambuf_iterator<char>());
  const std::size_t name_end = stat.rfind(')');
  const std::string state = name_end == std::string::npos ? "?" : stat.substr(name_end + 2, 1);
  return "state " + state + ", wchan " + (wchan.empty() ? "?" : wchan);
}

enum class Role { publisher, subscriber };

struct Child {
  Role role = Role::subscriber;
  int index = 0;
  std::optional<test::ChildProcess> process;  ///< engaged from start until reaped
  bool stopped = false;
  bool killed_by_us = false;
  bool term_sent = false;
  std::uint64_t fault_at = 0;
  std::optional<Clock::time_point> restart_at;
  std::optional<Clock::time_point> cont_at;
  // Publisher reports.
  bool ready = false;
  // Subscriber reports (of the current process instance).
  long long state_pid = 0;
  long long state_epoch = 0;
  long long state_seq = 0;
  long long state_stale = 1;
  long long delivered = 0;
  Clock::time_point state_time{};

  [[nodiscard]] bool running() const noexcept { return process.has_value(); }
};

struct Figures {
  std::map<std::string, long long> faults{{"publisher_kill", 0},  {"publisher_mid_write", 0}, {"publisher_term", 0},
                                          {"subscriber_kill", 0}, {"subscriber_stop", 0},     {"subscriber_term", 0}};
  long long mid_write_deaths = 0;
  long long torn = 0;
  long long regressions = 0;
  long long unexpected_exits = 0;
  long long attach_errors = 0;
  long long epoch_reuse = 0;
  long long publisher_start_errors = 0;
  long long publisher_incarnations = 0;
  long long subscriber_incarnations = 0;
  long long delivered_banked = 0;
  long long not_converged = 0;
  long long converge_ms_max = 0;
  double throughput_running = 0;
  double throughput_stopped = 0;
  long long burst_blocked = 0;
  long long leftover_after_stop = -1;
  long long leftover_after_kill = -1;
  long long leftover_after_clean = -1;
  long long clean_removed = 0;
  std::string clean_tool = "none";
  long long final_seq = 0;
  long long final_epoch = 0;
};

class Driver {
 public:
  explicit Driver(const ChaosOptions& options) : options_(options) {
    seed_ = options.seed != 0 ? options.seed : static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
    random_.seed(seed_);
    prefix_ = options.prefix.empty() ? "chaos" + std::to_string(getpid()) : options.prefix;
    log_path_ = "/tmp/shmsnap-chaos-" + prefix_ + ".log";
    publisher_.role = Role::publisher;
    subscribers_.resize(static_cast<std::size_t>(options.subscribers));
    for (std::size_t index = 0; index < subscribers_.size(); ++index) {
      subscribers_[index].index = static_cast<int>(index);
    }
  }

  ~Driver() {
    for (Child* child : all()) {
      child->process.reset();  // SIGKILLs and reaps one still running
    }
    test::remove_leftovers(prefix_);
  }

  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  int run();

 private:
  std::vector<Child*> all() {
    std::vector<Child*> children{&publisher_};
    for (Child& subscriber : subscribers_) {
      children.push_back(&subscriber);
    }
    return children;
  }

  long long uniform(long long low, long long high) {
    return std::uniform_int_distribution<long long>(low, high)(random_);
  }

  void note(const std::string& text) {
    const double at = std::chrono::duration<double>(Clock::now() - started_).count();
    std::printf("[%7.3f] %s\n", at, text.c_str());
    std::fflush(stdout);
  }

  void spawn(Child& child);
  void start_publisher(std::uint64_t fault_at);
  void start_subscriber(Child& child);
  void kill_now(Child& child);
  void send(Child& child, int signal_number);
  void pump(milliseconds timeout);
  void read_from(Child& child);
  void handle_line(Child& child, const std::string& line);
  void reap();
  void on_exit(Child& child, int exit_code);
  void service_schedules();
  void inject_fault();
  bool wait_until(const std::function<bool()>& condition, double seconds);
  bool all_attached_to_publisher();
  void quiesce();
  void measure_throughput();
  void check_convergence();
  void stop_gracefully();
  void kill_all_and_clean();
  void print_figures(bool passed);

  ChaosOptions options_;
  std::uint64_t seed_ = 0;
  std::mt19937_64 random_;
  std::string prefix_;
  std::string log_path_;
  Clock::time_point started_ = Clock::now();
  Child publisher_;
  std::vector<Child> subscribers_;
  Figures figures_;
  long long publisher_pid_ = 0;
  std::optional<std::pair<long long, long long>> burst_;  // n, ns
  std::optional<std::pair<long long, long long>> final_;  // epoch, seq
};

void Driver::spawn(Child& child) {
  std::vector<std::string> argv{options_.bin_dir + "/shmsnap-test-peer",
                                child.role == Role::publisher ? "soak-publisher" : "soak-subscriber",
                                "--prefix",
                                prefix_,
                                "--topic",
                                "chaos"};
  if (child.role == Role::publisher) {
    argv.insert(argv.end(), {"--rate", std::to_string(options_.rate), "--slots", "2"});
    if (child.fault_at != 0) {
      argv.insert(argv.end(), {"--fault-at", std::to_string(child.fault_at)});
    }
  } else {
    // Every other subscriber waits in hybrid mode (spin, then block): both wake paths.
    argv.insert(argv.end(),
                {"--id", "sub" + std::to_string(child.index), "--mode", child.index % 2 == 1 ? "hybrid" : "notify"});
  }
  child.process.emplace(std::move(argv), test::ChildOptions{.stderr_path = log_path_});
  child.stopped = false;
  child.killed_by_us = false;
  child.term_sent = false;
  child.restart_at.reset();
  child.cont_at.reset();
  child.ready = false;
  child.state_pid = 0;
  child.state_stale = 1;
  child.delivered = 0;
}

void Driver::start_publisher(std::uint64_t fault_at) {
  publisher_.fault_at = fault_at;
  spawn(publisher_);
  ++figures_.publisher_incarnations;
}

void Driver::start_subscriber(Child& child) {
  child.fault_at = 0;
  spawn(child);
  ++figures_.subscriber_incarnations;
}

// SIGKILL and reap at once, keeping whatever the child printed before.
void Driver::kill_now(Child& child) {
  if (!child.running()) {
    return;
  }
  child.killed_by_us = true;
  child.process->signal(SIGKILL);
  const std::optional<int> exit_code = child.process->reap(kill_reap_bound);
  if (!exit_code) {
    throw std::runtime_error("pid " + std::to_string(child.process->pid()) + " outlived SIGKILL (" +
                             kernel_state_of(child.process->pid()) + ")");
  }
  on_exit(child, *exit_code);
}

// A signal to the current incarnation; none when it is gone.
void Driver::send(Child& child, int signal_number) {
  if (child.running()) {
    child.process->signal(signal_number);
  }
}

void Driver::read_from(Child& child) {
  while (child.running()) {
    const std::optional<std::string> line = child.process->read_line(milliseconds(0));
    if (!line) {
      break;
    }
    handle_line(child, *line);
  }
}

void Driver::handle_line(Child& child, const std::string& line) {
  if (child.role == Role::publisher) {
    if (line.starts_with("READY")) {
      child.ready = true;
      publisher_pid_ = field(line, "pid").value_or(0);
    } else if (line.starts_with("BURST")) {
      burst_ = std::make_pair(field(line, "n").value_or(0), field(line, "ns").value_or(0));
      note("publisher: " + line);
    } else if (line.starts_with("FINAL")) {
      final_ = std::make_pair(field(line, "epoch").value_or(0), field(line, "seq").value_or(0));
      note("publisher: " + line);
    } else if (line.starts_with("ERROR")) {
      ++figures_.publisher_start_errors;
      note("publisher: " + line);
    }
    return;
  }
  if (line.starts_with("STATE")) {
    child.state_pid = field(line, "pid").value_or(0);
    child.state_epoch = field(line, "epoch").value_or(0);
    child.state_seq = field(line, "seq").value_or(0);
    child.state_stale = field(line, "stale").value_or(1);
    child.delivered = field(line, "delivered").value_or(0);
    child.state_time = Clock::now();
  } else if (line.starts_with("TORN")) {
    ++figures_.torn;
    note("sub" + std::to_string(child.index) + ": " + line);
  } else if (line.starts_with("REGRESS")) {
    ++figures_.regressions;
    note("sub" + std::to_string(child.index) + ": " + line);
  } else if (line.starts_with("ATTACH_ERROR")) {
    ++figures_.attach_errors;
  } else if (line.starts_with("EPOCH_REUSE")) {
    ++figures_.epoch_reuse;
  } else if (line.starts_with("ERROR")) {
    note("sub" + std::to_string(child.index) + ": " + line);
  }
}

void Driver::on_exit(Child& child, int exit_code) {
  read_from(child);  // what it printed before it went
  const std::optional<int> signal_number = child.process->exit_signal();
  child.process.reset();
  child.stopped = false;
  child.cont_at.reset();
  figures_.delivered_banked += child.delivered;
  child.delivered = 0;
  const bool killed = signal_number == SIGKILL;
  const std::string who = child.role == Role::publisher ? "publisher" : "sub" + std::to_string(child.index);
  if (child.killed_by_us) {
    return;
  }
  if (child.role == Role::publisher && killed && child.fault_at != 0) {
    ++figures_.mid_write_deaths;  // the fault hook fired: it died with a slot odd
    return;
  }
  // A SIGTERM that lands before the peer installed its handler ends it by the signal.
  const bool terminated = signal_number == SIGTERM;
  if (child.term_sent && ((!signal_number && exit_code == 0) || terminated)) {
    return;
  }
  ++figures_.unexpected_exits;
  note(who + " exited unexpectedly: " +
       (signal_number ? "signal " + std::to_string(*signal_number) : "code " + std::to_string(exit_code)));
}

void Driver::reap() {
  for (Child* child : all()) {
    if (!child->running()) {
      continue;
    }
    if (const std::optional<int> exit_code = child->process->reap(milliseconds(0))) {
      on_exit(*child, *exit_code);
    }
  }
}

void Driver::pump(milliseconds timeout) {
  std::vector<test::ChildProcess*> processes;
  for (Child* child : all()) {
    if (child->running()) {
      processes.push_back(&*child->process);
    }
  }
  test::wait_for_output(processes, timeout);
  for (Child* child : all()) {
    read_from(*child);
  }
  reap();
}

void Driver::service_schedules() {
  const auto now = Clock::now();
  for (Child* child : all()) {
    if (child->running() && child->cont_at && now >= *child->cont_at) {
      send(*child, SIGCONT);
      child->stopped = false;
      child->cont_at.reset();
    }
  }
  if (!publisher_.running() && publisher_.restart_at && now >= *publisher_.restart_at) {
    start_publisher(0);
  } else if (!publisher_.running() && !publisher_.restart_at) {
    // It went by itself (fault hook, or an error): back after a short gap.
    publisher_.restart_at = now + milliseconds(uniform(0, 100));
  }
  for (Child& subscriber : subscribers_) {
    if (!subscriber.running() && subscriber.restart_at && now >= *subscriber.restart_at) {
      start_subscriber(subscriber);
    } else if (!subscriber.running() && !subscriber.restart_at) {
      subscriber.restart_at = now + milliseconds(uniform(0, 200));
    }
  }
}

void Driver::inject_fault() {
  const long long roll = uniform(0, 99);
  const auto now = Clock::now();
  Child& victim = subscribers_[static_cast<std::size_t>(uniform(0, static_cast<long long>(subscribers_.size()) - 1))];
  if (roll < 14) {
    if (publisher_.running()) {
      ++figures_.faults["publisher_kill"];
      kill_now(publisher_);
      publisher_.restart_at = now + milliseconds(uniform(0, 150));
    }
  } else if (roll < 24) {
    // Replace the publisher by one whose fault hook SIGKILLs it between the odd
    // and even seqlock stores of a publish some way into its life.
    ++figures_.faults["publisher_mid_write"];
    kill_now(publisher_);
    start_publisher(static_cast<std::uint64_t>(uniform(1, std::max(2LL, options_.rate / 3))));
  } else if (roll < 28) {
    if (publisher_.running() && !publisher_.term_sent) {
      ++figures_.faults["publisher_term"];
      publisher_.term_sent = true;
      send(publisher_, SIGTERM);
      publisher_.restart_at = now + milliseconds(uniform(20, 200));
    }
  } else if (roll < 52) {
    if (victim.running()) {
      ++figures_.faults["subscriber_kill"];
      kill_now(victim);
      victim.restart_at = now + milliseconds(uniform(0, 200));
    }
  } else if (roll < 90) {
    if (victim.running() && !victim.stopped && !victim.term_sent) {
      ++figures_.faults["subscriber_stop"];
      send(victim, SIGSTOP);
      victim.stopped = true;
      victim.cont_at = now + milliseconds(uniform(20, 1500));
    }
  } else if (victim.running() && !victim.stopped && !victim.term_sent) {
    ++figures_.faults["subscriber_term"];
    victim.term_sent = true;
    send(victim, SIGTERM);
    victim.restart_at = now + milliseconds(uniform(0, 200));
  }
}

bool Driver::wait_until(const std::function<bool()>& condition, double seconds) {
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (!condition()) {
    if (Clock::now() >= deadline) {
      return false;
    }
    pump(milliseconds(10));
  }
  return true;
}

bool Driver::all_attached_to_publisher() {
  return std::all_of(subscribers_.begin(), subscribers_.end(), [&](const Child& subscriber) {
    return subscriber.running() && subscriber.state_stale == 0 && subscriber.state_pid == publisher_pid_;
  });
}

// Faults stop: every subscriber runs (continued), one publisher without a fault hook runs.
void Driver::quiesce() {
  for (Child* child : all()) {
    if (child->running() && child->stopped) {
      send(*child, SIGCONT);
      child->stopped = false;
      child->cont_at.reset();
    }
    child->restart_at.reset();
  }
  // Let pending SIGTERMs finish before restarting those children.
  wait_until(
      [&] {
        return std::none_of(subscribers_.begin(), subscribers_.end(),
                            [](const Child& c) { return c.running() && c.term_sent; });
      },
      10.0);
  if (publisher_.running() && (publisher_.fault_at != 0 || publisher_.term_sent)) {
    if (publisher_.term_sent) {
      wait_until([&] { return !publisher_.running(); }, 10.0);
    }
    kill_now(publisher_);
  }
  if (!publisher_.running()) {
    start_publisher(0);
  }
  for (Child& subscriber : subscribers_) {
    if (!subscriber.running()) {
      start_subscriber(subscriber);
    }
  }
  if (!wait_until([&] { return publisher_.ready || !publisher_.running(); }, 20.0) || !publisher_.ready) {
    note("the final publisher did not become ready");
    ++figures_.publisher_start_errors;
  }
}

void Driver::measure_throughput() {
  const auto burst_rate = [&]() -> double {
    burst_.reset();
    send(publisher_, SIGUSR1);
    if (!wait_until([&] { return burst_.has_value() || !publisher_.running(); }, 60.0) || !burst_) {
      ++figures_.burst_blocked;  // the publisher did not finish a burst: it blocked
      return 0.0;
    }
    return burst_->second > 0 ? static_cast<double>(burst_->first) * 1e9 / static_cast<double>(burst_->second) : 0.0;
  };
  figures_.throughput_running = burst_rate();
  Child& sleepy = subscribers_.front();
  send(sleepy, SIGSTOP);
  pump(milliseconds(50));
  figures_.throughput_stopped = burst_rate();
  send(sleepy, SIGCONT);
}

void Driver::check_convergence() {
  final_.reset();
  send(publisher_, SIGUSR2);
  if (!wait_until([&] { return final_.has_value() || !publisher_.running(); }, 30.0) || !final_) {
    note("the publisher never reported its final snapshot");
    figures_.not_converged = static_cast<long long>(subscribers_.size());
    return;
  }
  figures_.final_epoch = final_->first;
  figures_.final_seq = final_->second;
  const auto faults_stopped = Clock::now();
  const auto converged = [&](const Child& subscriber) {
    return subscriber.running() && subscriber.state_stale == 0 && subscriber.state_pid == publisher_pid_ &&
           subscriber.state_epoch == final_->first && subscriber.state_seq == final_->second;
  };
  wait_until([&] { return std::all_of(subscribers_.begin(), subscribers_.end(), converged); },
             options_.converge_bound_s);
  for (const Child& subscriber : subscribers_) {
    if (!converged(subscriber)) {
      ++figures_.not_converged;
      note("sub" + std::to_string(subscriber.index) + " did not converge: holds pid=" +
           std::to_string(subscriber.state_pid) + " epoch=" + std::to_string(subscriber.state_epoch) +
           " seq=" + std::to_string(subscriber.state_seq) + " stale=" + std::to_string(subscriber.state_stale));
    } else {
      const auto took = std::chrono::duration_cast<milliseconds>(subscriber.state_time - faults_stopped).count();
      figures_.converge_ms_max = std::max<long long>(figures_.converge_ms_max, std::max<long long>(0, took));
    }
  }
}

void Driver::stop_gracefully() {
  for (Child& subscriber : subscribers_) {
    if (subscriber.running()) {
      subscriber.term_sent = true;
      send(subscriber, SIGTERM);
    }
  }
  wait_until(
      [&] {
        return std::none_of(subscribers_.begin(), subscribers_.end(), [](const Child& c) { return c.running(); });
      },
      15.0);
  if (publisher_.running()) {
    publisher_.term_sent = true;
    send(publisher_, SIGTERM);
    wait_until([&] { return !publisher_.running(); }, 15.0);
  }
  for (Child* child : all()) {
    if (child->running()) {
      note("a child ignored SIGTERM; killing it");
      ++figures_.unexpected_exits;
      kill_now(*child);
    }
  }
  const std::vector<std::string> left = test::remove_leftovers(prefix_);
  figures_.leftover_after_stop = static_cast<long long>(left.size());
  for (const std::string& path : left) {
    note("left after a clean stop: " + path);
  }
}

// Everything SIGKILLed at once, then the stale-resource story: shmsnap::admin::clean
// (what `shmsnap clean` runs), or with --clean restart the next publisher's start
// plus subscribers with the same ids (which reclaim their dead predecessors'
// queues) and a clean stop.
void Driver::kill_all_and_clean() {
  start_publisher(0);
  for (Child& subscriber : subscribers_) {
    start_subscriber(subscriber);
  }
  wait_until([&] { return publisher_.ready && all_attached_to_publisher(); }, 20.0);
  for (Child* child : all()) {
    kill_now(*child);
  }
  figures_.leftover_after_kill = static_cast<long long>(test::leftovers(prefix_).size());
  if (options_.clean_with == "admin") {
    figures_.clean_tool = "admin";
    const admin::CleanReport report = admin::clean(prefix_, false);
    figures_.clean_removed = static_cast<long long>(report.removed.size());
    for (const std::string& error : report.errors) {
      note("clean: " + error);
    }
  } else {
    figures_.clean_tool = "restart";
    start_publisher(0);
    for (Child& subscriber : subscribers_) {
      start_subscriber(subscriber);
    }
    if (!wait_until([&] { return publisher_.ready && all_attached_to_publisher(); }, 20.0)) {
      note("a fresh publisher and subscribers did not all attach over the leftovers");
      ++figures_.not_converged;
    }
    for (Child* child : all()) {
      child->term_sent = true;
      if (child->role == Role::subscriber && child->running()) {
        send(*child, SIGTERM);
      }
    }
    wait_until(
        [&] {
          return std::none_of(subscribers_.begin(), subscribers_.end(), [](const Child& c) { return c.running(); });
        },
        15.0);
    if (publisher_.running()) {
      send(publisher_, SIGTERM);
      wait_until([&] { return !publisher_.running(); }, 15.0);
    }
  }
  const std::vector<std::string> left = test::remove_leftovers(prefix_);
  figures_.leftover_after_clean = static_cast<long long>(left.size());
  for (const std::string& path : left) {
    note("left after cleanup: " + path);
  }
}

void Driver::print_figures(bool passed) {
  long long delivered = figures_.delivered_banked;
  for (const Child& subscriber : subscribers_) {
    delivered += subscriber.delivered;
  }
  const double ratio =
      figures_.throughput_running > 0 ? figures_.throughput_stopped / figures_.throughput_running : 0.0;
  std::string line = "result=" + std::string(passed ? "pass" : "FAIL");
  const auto add = [&](const std::string& name, const std::string& value) { line += " " + name + "=" + value; };
  char number[64];
  add("seed", std::to_string(seed_));
  std::snprintf(number, sizeof number, "%.1f", options_.duration_s);
  add("duration_s", number);
  add("subscribers", std::to_string(subscribers_.size()));
  add("rate", std::to_string(options_.rate));
  add("torn", std::to_string(figures_.torn));
  add("regressions", std::to_string(figures_.regressions));
  add("not_converged", std::to_string(figures_.not_converged));
  add("converge_ms_max", std::to_string(figures_.converge_ms_max));
  std::snprintf(number, sizeof number, "%.0f", figures_.throughput_running);
  add("throughput_running", number);
  std::snprintf(number, sizeof number, "%.0f", figures_.throughput_stopped);
  add("throughput_one_stopped", number);
  std::snprintf(number, sizeof number, "%.2f", ratio);
  add("throughput_ratio", number);
  add("burst_blocked", std::to_string(figures_.burst_blocked));
  add("leftover_after_stop", std::to_string(figures_.leftover_after_stop));
  add("leftover_after_kill", std::to_string(figures_.leftover_after_kill));
  add("leftover_after_clean", std::to_string(figures_.leftover_after_clean));
  add("clean_tool", figures_.clean_tool);
  add("clean_removed", std::to_string(figures_.clean_removed));
  for (const auto& [kind, count] : figures_.faults) {
    add("fault_" + kind, std::to_string(count));
  }
  add("mid_write_deaths", std::to_string(figures_.mid_write_deaths));
  add("unexpected_exits", std::to_string(figures_.unexpected_exits));
  add("publisher_start_errors", std::to_string(figures_.publisher_start_errors));
  add("attach_errors", std::to_string(figures_.attach_errors));
  add("epoch_reuse", std::to_string(figures_.epoch_reuse));
  add("publisher_incarnations", std::to_string(figures_.publisher_incarnations));
  add("subscriber_incarnations", std::to_string(figures_.subscriber_incarnations));
  add("delivered", std::to_string(delivered));
  add("final_epoch", std::to_string(figures_.final_epoch));
  add("final_seq", std::to_string(figures_.final_seq));
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

int Driver::run() {
  signal(SIGPIPE, SIG_IGN);
  // Only --fault-at picks a publisher to die mid-write: a setting inherited from
  // our environment would kill every publisher.
  unsetenv("SHMSNAP_FAULT_KILL_MID_WRITE_AT");
  note("shmsnap-chaos seed=" + std::to_string(seed_) + " prefix=" + prefix_ + " subscribers=" +
       std::to_string(subscribers_.size()) + " rate=" + std::to_string(options_.rate) + "/s; child logs: " + log_path_);
  test::remove_leftovers(prefix_);
  start_publisher(0);
  for (Child& subscriber : subscribers_) {
    start_subscriber(subscriber);
  }
  wait_until([&] { return publisher_.ready; }, 20.0);

  // Faults fill the run but its last few seconds, which the checks below need.
  const double fault_seconds = std::max(options_.duration_s * 0.5, options_.duration_s - 5.0);
  const auto fault_end =
      started_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(fault_seconds));
  auto next_fault = Clock::now() + milliseconds(uniform(30, 300));
  while (Clock::now() < fault_end) {
    pump(milliseconds(5));
    service_schedules();
    if (Clock::now() >= next_fault) {
      inject_fault();
      next_fault = Clock::now() + milliseconds(uniform(30, 300));
    }
  }
  note("faults stop; letting everything settle");
  quiesce();
  if (!wait_until([&] { return all_attached_to_publisher(); }, options_.converge_bound_s)) {
    note("not every subscriber re-attached to the final publisher in time");
  }
  measure_throughput();
  check_convergence();
  stop_gracefully();
  kill_all_and_clean();

  const bool passed = figures_.torn == 0 && figures_.regressions == 0 && figures_.not_converged == 0 &&
                      figures_.burst_blocked == 0 && figures_.leftover_after_stop == 0 &&
                      figures_.leftover_after_clean == 0 && figures_.unexpected_exits == 0 &&
                      figures_.publisher_start_errors == 0;
  if (passed) {
    unlink(log_path_.c_str());
  } else {
    note("FAILED; child logs kept in " + log_path_);
  }
  print_figures(passed);
  return passed ? 0 : 1;
}

}  // namespace

int run_chaos(const ChaosOptions& options) {
  Driver driver(options);
  return driver.run();
}

}  // namespace shmsnap::chaos
