// shmsnap: the admin CLI (see admin_cli.hpp); run with --help for usage.
#include <iostream>

#include "admin_cli.hpp"

int main(int argc, char** argv) {
  shmsnap::app::Io io{std::cout, std::cerr, shmsnap::app::install_stop_signals()};
  return shmsnap::app::run_admin(shmsnap::app::arguments(argc, argv), io);
}
