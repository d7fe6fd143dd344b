// shmsnap-bridge: see bridge_app.hpp and bridge/README.md; run with --help for usage.
#include <iostream>

#include "bridge_app.hpp"

int main(int argc, char** argv) {
  shmsnap::app::Io io{std::cout, std::cerr, shmsnap::app::install_stop_signals()};
  shmsnap::app::install_counter_signal();
  return shmsnap::app::run_bridge(shmsnap::app::arguments(argc, argv), io);
}
