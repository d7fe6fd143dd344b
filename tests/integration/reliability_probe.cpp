// shmsnap-reliability-probe: one OS call on a named resource, run (through
// setpriv) as another user by the permission tests. Prints one line:
//   RESULT ok | RESULT errno=<NAME>
// Usage: shmsnap-reliability-probe shm-open NAME ro|rw
//        shmsnap-reliability-probe mq-open NAME r|w
#include <fcntl.h>
#include <mqueue.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace {
const char* errno_name(int err) {
  switch (err) {
    case EACCES:
      return "EACCES";
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    default:
      return std::strerror(err);
  }
}

int report(int descriptor_or_minus_one) {
  if (descriptor_or_minus_one < 0) {
    std::printf("RESULT errno=%s\n", errno_name(errno));
  } else {
    std::printf("RESULT ok\n");
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s shm-open NAME ro|rw | mq-open NAME r|w\n", argv[0]);
    return 2;
  }
  const std::string what = argv[1];
  const std::string mode = argv[3];
  if (what == "shm-open") {
    return report(shm_open(argv[2], mode == "rw" ? O_RDWR : O_RDONLY, 0));
  }
  if (what == "mq-open") {
    return report(static_cast<int>(mq_open(argv[2], mode == "w" ? O_WRONLY : O_RDONLY)));
  }
  std::fprintf(stderr, "unknown probe %s\n", what.c_str());
  return 2;
}
