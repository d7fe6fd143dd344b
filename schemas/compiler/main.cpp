// shmsnap-schemac: the schema compiler binary. All logic lives in cli.cpp
// (shmsnap_schemac_lib) so tests can run it in-process.
#include <iostream>

#include "cli.hpp"

int main(int argc, char** argv) {
  return shmsnap::schemac::run_schemac(argc, argv, std::cout, std::cerr);
}
