// Base fixture of the multi-process tests: a unique resource prefix per test, the
// peer binary's path, and a teardown that fails the test if anything of its
// prefix is left in /dev/shm or the mqueue namespace (then removes it); and a
// temporary directory for socket-mode topics.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "support/process_runner.hpp"
#include "support/resource_check.hpp"

namespace shmsnap::test {

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { ensure_mqueue_mounted(); }

  void TearDown() override {
    children_.clear();  // SIGKILLs whatever a failed test left running
    const std::vector<std::string> left = remove_leftovers(prefix_);
    EXPECT_TRUE(left.empty()) << "left behind: " << ::testing::PrintToString(left);
  }

  /// Starts the peer binary in `role` with --prefix and --topic filled in.
  ChildProcess& start(const std::string& role, std::vector<std::string> arguments, const std::string& topic = "topic") {
    std::vector<std::string> argv{bin_dir() + "/shmsnap-test-peer", role, "--prefix", prefix_, "--topic", topic};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    children_.emplace_back(std::make_unique<ChildProcess>(std::move(argv)));
    return *children_.back();
  }

  const std::string prefix_ = unique_prefix();
  std::vector<std::unique_ptr<ChildProcess>> children_;
};

/// A fresh directory (mkdtemp) for socket-mode topics (DIR/<topic>.sock), removed
/// with all it holds, a killed publisher's socket included. Declare it before the
/// processes that use it are stopped, e.g. as a fixture member.
class SocketDirectory {
 public:
  SocketDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "shmsnap-sockets-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp " + pattern + " failed");
    }
    path_ = pattern;
  }
  ~SocketDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  SocketDirectory(const SocketDirectory&) = delete;
  SocketDirectory& operator=(const SocketDirectory&) = delete;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

/// Generous bound for anything a test waits on: large enough for a loaded 2-core
/// sanitizer run, small enough that a hang fails well before the ctest TIMEOUT.
inline constexpr std::chrono::milliseconds patience{60'000};

}  // namespace shmsnap::test
