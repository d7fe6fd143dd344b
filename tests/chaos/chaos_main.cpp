// shmsnap-chaos --duration S [--seed N] [--subscribers K] [--rate R] [--prefix P] [--clean admin|restart]
// Exit 0 only when every invariant held; the last stdout line holds the figures;
// 4 when the harness itself failed.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "chaos_driver.hpp"
#include "support/process_runner.hpp"

int main(int argc, char** argv) {
  shmsnap::chaos::ChaosOptions options;
  options.bin_dir = shmsnap::test::bin_dir();
  for (int index = 1; index < argc; ++index) {
    const std::string key = argv[index];
    if (index + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", key.c_str());
      return 2;
    }
    const std::string value = argv[++index];
    if (key == "--duration") {
      options.duration_s = std::atof(value.c_str());
    } else if (key == "--seed") {
      options.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (key == "--subscribers") {
      options.subscribers = std::atoi(value.c_str());
    } else if (key == "--rate") {
      options.rate = std::atoll(value.c_str());
    } else if (key == "--prefix") {
      options.prefix = value;
    } else if (key == "--bin-dir") {
      options.bin_dir = value;
    } else if (key == "--clean") {
      options.clean_with = value;
    } else if (key == "--converge-bound") {
      options.converge_bound_s = std::atof(value.c_str());
    } else {
      std::fprintf(stderr,
                   "usage: shmsnap-chaos --duration S [--seed N] [--subscribers K] [--rate R] [--prefix P] "
                   "[--bin-dir D] [--converge-bound S] [--clean admin|restart]\n");
      return 2;
    }
  }
  if (options.duration_s <= 0 || options.subscribers < 1 || options.subscribers > 60 || options.rate < 1 ||
      (options.clean_with != "admin" && options.clean_with != "restart")) {
    std::fprintf(stderr, "shmsnap-chaos: --duration > 0, --subscribers 1..60, --rate >= 1, --clean admin|restart\n");
    return 2;
  }
  try {
    return shmsnap::chaos::run_chaos(options);
  } catch (const std::exception& failure) {
    // The harness itself failed (fork, a child that outlived SIGKILL): no verdict.
    std::fprintf(stderr, "shmsnap-chaos: %s\n", failure.what());
    return 4;
  }
}
