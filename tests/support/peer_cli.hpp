// The command line of the test peer (shmsnap-test-peer): `<program> <role> --key
// value ...`, answers as single stdout lines of key=value pairs, exit 2 for a usage
// error and 3 for a shmsnap::Error.
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

/// Parses argv and runs the role argv[1] names; a shmsnap::Error becomes an ERROR line.
inline int run_peer(int argc, char** argv, const char* program, const std::map<std::string, PeerRole>& roles) {
  const auto usage = [&] {
    std::string names;
    for (const auto& [name, role] : roles) {
      names += (names.empty() ? "" : "|") + name;
    }
    std::fprintf(stderr, "usage: %s %s --key value...\n", program, names.c_str());
    return 2;
  };
  if (argc < 2) {
    return usage();
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
  const auto role = roles.find(argv[1]);
  if (role == roles.end()) {
    std::fprintf(stderr, "unknown role %s\n", argv[1]);
    return usage();
  }
  try {
    return role->second(args);
  } catch (const Error& failure) {
    say(std::string("ERROR code=") + std::string(to_string(failure.code())) + " message=" + failure.what());
    return 3;
  }
}

}  // namespace shmsnap::test
