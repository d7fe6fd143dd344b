// shmsnap-chaos --duration S [--seed N] [--subscribers K] [--rate R] [--prefix P] [--clean admin|restart]
// Exit 0 only when every invariant held; the last stdout line holds the figures.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "chaos_driver.hpp"

int main(int argc, char** argv) {
  shmsnap::chaos::ChaosOptions options;
  char self[4096];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
  const std::string exe(self, length > 0 ? static_cast<std::size_t>(length) : 0);
  options.bin_dir = exe.substr(0, exe.rfind('/'));
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
  return shmsnap::chaos::run_chaos(options);
}
