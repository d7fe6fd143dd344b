// shmsnap-bench entry point; the program lives in the shmsnap_bench_core library.
#include "bench/cli.hpp"

int main(int argc, char** argv) {
  return shmsnap::bench::run_cli(argc, argv);
}
