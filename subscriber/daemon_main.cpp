// shmsnap-subscriber: see daemon.hpp; run with --help for usage.
#include <iostream>

#include "daemon.hpp"

int main(int argc, char** argv) {
  shmsnap::app::Io io{std::cout, std::cerr, shmsnap::app::install_stop_signals()};
  return shmsnap::app::run_subscriber_daemon(shmsnap::app::arguments(argc, argv), io);
}
