// The command line shared by the test peers (shmsnap-test-peer, shmsnap-chaos-peer):
// `<program> publisher|subscriber --key value ...`, answers as single stdout lines
// of key=value pairs, exit 2 for a usage error and 3 for a shmsnap::Error.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>

#include "shmsnap/error.hpp"

namespace shmsnap::test {

/// `--key value` pairs, read with a fallback.
struct PeerArguments {
  std::map<std::string, std::string> values;

  [[nodiscard]] std::string text(const std::string& key, const std::string& fallback = "") const {
    const auto found = values.find(key);
    return found == values.end() ? fallback : found->second;
  }
  [[nodiscard]] long long number(const std::string& key, long long fallback) const {
    const auto found = values.find(key);
    return found == values.end() ? fallback : std::atoll(found->second.c_str());
  }
};

/// Prints one line and flushes it at once: tests wait for it on a pipe.
inline void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

using PeerRole = std::function<int(const PeerArguments&)>;

/// Parses argv and runs the role it names; a shmsnap::Error becomes an ERROR line.
inline int run_peer(int argc, char** argv, const char* program, const PeerRole& publisher, const PeerRole& subscriber) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s publisher|subscriber --key value...\n", program);
    return 2;
  }
  PeerArguments args;
  for (int index = 2; index + 1 < argc; index += 2) {
    const std::string key = argv[index];
    if (key.rfind("--", 0) != 0) {
      std::fprintf(stderr, "unexpected argument %s\n", key.c_str());
      return 2;
    }
    args.values[key.substr(2)] = argv[index + 1];
  }
  try {
    const std::string role = argv[1];
    if (role == "publisher") {
      return publisher(args);
    }
    if (role == "subscriber") {
      return subscriber(args);
    }
    std::fprintf(stderr, "unknown role %s\n", role.c_str());
    return 2;
  } catch (const Error& failure) {
    say(std::string("ERROR code=") + std::string(to_string(failure.code())) + " message=" + failure.what());
    return 3;
  }
}

}  // namespace shmsnap::test
