// The socket mode's region: a sealed memfd (RegionWriter::create_sealed), and the
// reader's check of a received descriptor (SharedMemory::adopt_sealed). The kernel,
// not the reader's good will, keeps a receiver from writing, truncating or reopening
// it writable; a descriptor without those seals is refused.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "region/region_writer.hpp"
#include "region/shared_memory.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/region.hpp"
#include "support/test_snapshot.hpp"
#include "transport/unix_socket.hpp"

namespace shmsnap::detail {
namespace {

using namespace std::chrono_literals;

RegionSpec test_spec() {
  RegionSpec spec;
  spec.shm_name = "/sealed-test";
  spec.topic = "sealed-test";
  spec.payload_size = sizeof(test::TestSnapshot);
  spec.schema = test::TestSnapshot::shmsnap_schema;
  return spec;
}

// Whether `descriptor` is closed now (the code under test was given it).
bool closed(int descriptor) {
  return fcntl(descriptor, F_GETFD) == -1 && errno == EBADF;
}

// What the receiving child tried, one bit each: set when the kernel let it happen.
enum Breach : int {
  adopted_failed = 1 << 0,
  mapped_writable = 1 << 1,
  wrote = 1 << 2,
  truncated = 1 << 3,
  grew = 1 << 4,
  reopened_writable = 1 << 5,
  made_mapping_writable = 1 << 6,
  saw_wrong_bytes = 1 << 7,
};

// The child's side: receive the region over the connection and try every way to
// write it, on a copy of the descriptor, whether or not the reader's own check
// accepted it (so the attacks show what the kernel enforces, not what we refuse).
int receive_and_attack(int connection, pid_t publisher, int publisher_descriptor) {
  int breaches = 0;
  std::optional<ReceivedFrame> received;
  try {
    received = receive_attach_frame(connection, 10s);
  } catch (const Error&) {
  }
  if (!received || received->descriptors.size() != 1) {
    return adopted_failed;
  }
  const auto welcome = std::get<AttachWelcome>(received->frame);
  const int descriptor = received->descriptors[0].release();
  const int attacked = fcntl(descriptor, F_DUPFD_CLOEXEC, 0);
  const auto size = static_cast<std::size_t>(welcome.region_size);
  std::optional<SharedMemory> region;
  try {
    region = SharedMemory::adopt_sealed(descriptor, welcome.region_size, welcome.region_size);
    const auto* bytes = static_cast<const std::byte*>(region->address());
    if (!RegionReader::validate(bytes, region->mapped_size()).valid() ||
        reinterpret_cast<const RegionHeader*>(bytes)->epoch != welcome.epoch) {
      breaches |= saw_wrong_bytes;
    }
    if (mprotect(region->address(), size, PROT_READ | PROT_WRITE) == 0) {
      breaches |= made_mapping_writable;
    }
  } catch (const Error&) {
    breaches |= adopted_failed;
  }
  if (mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, attacked, 0) != MAP_FAILED) {
    breaches |= mapped_writable;
  }
  const char byte = 'x';
  if (pwrite(attacked, &byte, 1, 0) == 1) {
    breaches |= wrote;
  }
  if (ftruncate(attacked, static_cast<off_t>(size * 2)) == 0) {
    breaches |= grew;
  }
  // Reopening through /proc makes a new open file, but of the same sealed inode:
  // both our own descriptor and the publisher's.
  for (const std::string& path :
       {"/proc/self/fd/" + std::to_string(attacked),
        "/proc/" + std::to_string(publisher) + "/fd/" + std::to_string(publisher_descriptor)}) {
    const int reopened = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (reopened < 0) {
      continue;  // refused outright: as good
    }
    if (pwrite(reopened, &byte, 1, 0) == 1 || mmap(nullptr, size, PROT_WRITE, MAP_SHARED, reopened, 0) != MAP_FAILED) {
      breaches |= reopened_writable;
    }
    close(reopened);
  }
  if (ftruncate(attacked, 0) == 0) {  // last: it would make the others fail for another reason
    breaches |= truncated;
  }
  return breaches;
}

TEST(SealedRegion, AReceiverCanNeitherMapWritableWriteTruncateNorReopenWritable) {
  RegionWriter writer = RegionWriter::create_sealed(test_spec(), 5);
  struct stat status {};
  ASSERT_EQ(fstat(writer.descriptor(), &status), 0);
  const auto region_size = static_cast<std::uint64_t>(status.st_size);
  // The publisher keeps writing through the mapping it had before sealing.
  std::memset(writer.payload(0), 0x5a, 8);

  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
  const pid_t publisher = getpid();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pair[0]);
    _exit(receive_and_attack(pair[1], publisher, writer.descriptor()));
  }
  close(pair[1]);
  const int region_descriptor = writer.descriptor();
  send_attach_frame(pair[0], AttachWelcome{writer.epoch(), region_size, test_spec().schema.fingerprint},
                    std::span(&region_descriptor, 1), 10s);
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  close(pair[0]);
  ASSERT_TRUE(WIFEXITED(wait_status));
  const int breaches = WEXITSTATUS(wait_status);
  EXPECT_EQ(breaches & adopted_failed, 0) << "the receiver refused a genuine sealed region";
  EXPECT_EQ(breaches & saw_wrong_bytes, 0) << "the receiver's read-only mapping did not validate";
  EXPECT_EQ(breaches & mapped_writable, 0) << "a writable shared mapping was allowed";
  EXPECT_EQ(breaches & wrote, 0) << "write() was allowed";
  EXPECT_EQ(breaches & truncated, 0) << "ftruncate(0) was allowed";
  EXPECT_EQ(breaches & grew, 0) << "growing the file was allowed";
  EXPECT_EQ(breaches & made_mapping_writable, 0) << "mprotect(PROT_WRITE) was allowed";
  EXPECT_EQ(breaches & reopened_writable, 0) << "a reopen through /proc could write";
  // ... while the publisher's own mapping still writes, and its file kept its size.
  std::memset(writer.payload(0), 0x6b, 8);
  ASSERT_EQ(fstat(writer.descriptor(), &status), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(status.st_size), region_size);
  EXPECT_EQ(writer.header().magic.load(), region_magic);
}

TEST(SealedRegion, ADescriptorWithoutEverySealIsRefusedAndClosed) {
  const auto expect_refused = [](int descriptor, const std::string& reason) {
    try {
      (void)SharedMemory::adopt_sealed(descriptor, 1, 1U << 20);
      ADD_FAILURE() << "accepted a descriptor that is " << reason;
    } catch (const Error& refused) {
      EXPECT_EQ(refused.code(), Errc::invalid_region);
      EXPECT_NE(std::string(refused.what()).find(reason), std::string::npos) << refused.what();
    }
    EXPECT_TRUE(closed(descriptor)) << "the refused descriptor was left open";
  };
  // A memfd with no seals at all, then one with all but F_SEAL_FUTURE_WRITE.
  int unsealed = memfd_create("shmsnap-unsealed", MFD_ALLOW_SEALING | MFD_CLOEXEC);
  ASSERT_GE(unsealed, 0);
  ASSERT_EQ(ftruncate(unsealed, 4096), 0);
  expect_refused(unsealed, "sealed with 0x0 instead of 0x17");
  int partly = memfd_create("shmsnap-partly", MFD_ALLOW_SEALING | MFD_CLOEXEC);
  ASSERT_GE(partly, 0);
  ASSERT_EQ(ftruncate(partly, 4096), 0);
  ASSERT_EQ(fcntl(partly, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
  expect_refused(partly, "sealed with 0x7 instead of 0x17");
  // A memfd that cannot be sealed (F_SEAL_SEAL set at creation).
  int unsealable = memfd_create("shmsnap-unsealable", MFD_CLOEXEC);
  ASSERT_GE(unsealable, 0);
  ASSERT_EQ(ftruncate(unsealable, 4096), 0);
  expect_refused(unsealable, "sealed with 0x1 instead of 0x17");
  // Not a memfd at all: a regular file and a pipe.
  char path[] = "/tmp/shmsnap-sealed-XXXXXX";
  const int file = mkstemp(path);
  ASSERT_GE(file, 0);
  unlink(path);
  expect_refused(file, "not a memfd");
  int pipe_ends[2];
  ASSERT_EQ(pipe2(pipe_ends, O_CLOEXEC), 0);
  close(pipe_ends[1]);
  expect_refused(pipe_ends[0], "not a memfd");
}

TEST(SealedRegion, ASealedDescriptorOfTheWrongSizeIsRefused) {
  RegionWriter writer = RegionWriter::create_sealed(test_spec(), 1);
  struct stat status {};
  ASSERT_EQ(fstat(writer.descriptor(), &status), 0);
  const auto size = static_cast<std::uint64_t>(status.st_size);
  for (const auto& [least, most] : {std::pair{size + 1, size + 100}, std::pair{std::uint64_t{1}, size - 1}}) {
    const int copy = fcntl(writer.descriptor(), F_DUPFD_CLOEXEC, 0);
    ASSERT_GE(copy, 0);
    try {
      (void)SharedMemory::adopt_sealed(copy, least, most);
      ADD_FAILURE() << "accepted a region of the wrong size";
    } catch (const Error& refused) {
      EXPECT_NE(std::string(refused.what()).find("outside"), std::string::npos) << refused.what();
    }
    EXPECT_TRUE(closed(copy));
  }
  const int copy = fcntl(writer.descriptor(), F_DUPFD_CLOEXEC, 0);
  ASSERT_GE(copy, 0);
  const SharedMemory adopted = SharedMemory::adopt_sealed(copy, size, size);
  EXPECT_EQ(adopted.mapped_size(), size);
  EXPECT_TRUE(RegionReader::validate(static_cast<const std::byte*>(adopted.address()), size).valid());
}

}  // namespace
}  // namespace shmsnap::detail
