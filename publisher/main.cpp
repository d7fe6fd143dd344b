// shmsnap-publisher: see publisher_app.hpp; run with --help for usage.
#include <iostream>

#include "publisher_app.hpp"

int main(int argc, char** argv) {
  shmsnap::app::Io io{std::cout, std::cerr, shmsnap::app::install_stop_signals()};
  return shmsnap::app::run_publisher(shmsnap::app::arguments(argc, argv), io);
}
