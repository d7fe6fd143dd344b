// What the reliability tests share (permissions_test, hostile_control_test,
// exhaustion_test, stale_resources_test): the Reliability fixture, a polling
// helper, stderr capture, running a body in a forked child, a schema of any size.
// Every test has its own prefix, and the ProcessTest teardown fails it if
// anything of that prefix is left behind.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sched.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "shmsnap/admin.hpp"
#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/detail/region_layout.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/subscriber.hpp"
#include "support/fixture.hpp"
#include "support/other_users.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {

using namespace std::chrono_literals;

// Polls `condition` until it holds or `patience` runs out.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds bound = patience) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Redirects this process's stderr (where the library logs) into a file while alive.
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    char path[] = "/tmp/shmsnap-stderr-XXXXXX";
    file_ = mkstemp(path);
    path_ = path;
    dup2(file_, STDERR_FILENO);
  }
  ~StderrCapture() {
    restore();
    close(file_);
    unlink(path_.c_str());
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  /// Everything logged so far.
  std::string text() {
    std::fflush(stderr);
    std::ifstream in(path_);
    std::stringstream all;
    all << in.rdbuf();
    return all.str();
  }
  void restore() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      dup2(saved_, STDERR_FILENO);
      close(saved_);
      saved_ = -1;
    }
  }

 private:
  int saved_ = -1;
  int file_ = -1;
  std::string path_;
};

inline std::size_t count_lines_with(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// Runs `body` in a forked child and returns what it wrote to the pipe, plus its
// wait status. The child must not return: it _exit()s with body's result.
struct ChildOutcome {
  int status = 0;
  std::string text;
};
inline ChildOutcome in_child(const std::function<int(int write_fd)>& body) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    int code = 99;
    try {
      code = body(fds[1]);
    } catch (...) {
      code = 98;
    }
    _exit(code);
  }
  close(fds[1]);
  ChildOutcome outcome;
  char chunk[4096];
  for (ssize_t got; (got = read(fds[0], chunk, sizeof chunk)) > 0;) {
    outcome.text.append(chunk, static_cast<std::size_t>(got));
  }
  close(fds[0]);
  waitpid(pid, &outcome.status, 0);
  return outcome;
}

inline void write_text(int fd, const std::string& text) {
  [[maybe_unused]] const ssize_t written = write(fd, text.data(), text.size());
}

// A schema for snapshots of any size (only the publisher side is exercised).
inline SchemaInfo big_schema(std::size_t size) {
  static std::string descriptor;
  descriptor = R"({"name":"test.big","version":1,"size":)" + std::to_string(size) +
               R"(,"align":8,"fields":[{"name":"bytes","offset":0,"size":)" + std::to_string(size) +
               R"(,"type":"u8","count":)" + std::to_string(size) + "}]}";
  return SchemaInfo{"test.big", 1, 0x7e57'0003'0000'0001ULL, size, descriptor};
}

class Reliability : public ProcessTest {
 protected:
  ChildProcess& launch(std::vector<std::string> argv) {
    children_.emplace_back(std::make_unique<ChildProcess>(std::move(argv)));
    return *children_.back();
  }
  std::vector<std::string> peer(const std::string& role, std::vector<std::string> arguments,
                                const std::string& topic = "topic") {
    std::vector<std::string> argv{bin_dir() + "/shmsnap-test-peer", role, "--prefix", prefix_, "--topic", topic};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return argv;
  }
  std::vector<std::string> probe(const std::string& what, const std::string& name, const std::string& mode) {
    return {bin_dir() + "/shmsnap-reliability-probe", what, name, mode};
  }
  std::string probe_as(uid_t uid, gid_t gid, const std::vector<gid_t>& groups, const std::string& what,
                       const std::string& name, const std::string& mode) {
    ChildProcess& child = launch(as_user(uid, gid, groups, probe(what, name, mode)));
    const auto line = child.wait_for_line("RESULT", patience);
    child.wait_exit(patience);
    return line.value_or("no answer: " + child.output());
  }

  TopicNames names_{prefix_, "topic"};
};

}  // namespace shmsnap::test
