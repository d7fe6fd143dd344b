// A live region under attack: while a publisher publishes and subscribers follow,
// this test (as a user with write access to the region would) keeps rewriting
// random bytes of the header, the subscriber table, the descriptor and the slot
// headers. Nothing may crash, hang, or hand a subscriber a snapshot that breaks
// its invariants; tools run meanwhile must answer (an error is fine).
//
// The seqlock words and the payloads are left alone: whoever may write those can
// forge any snapshot, which no reader can tell from a real one (README, "Hostile
// users"). SHMSNAP_REGION_FUZZ_SECONDS sets the length (default 15 s).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "shmsnap/detail/region_layout.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/region.hpp"
#include "support/fixture.hpp"
#include "support/region_tamper.hpp"

namespace shmsnap::test {
namespace {

using Clock = std::chrono::steady_clock;

double fuzz_seconds() {
  const char* from_env = std::getenv("SHMSNAP_REGION_FUZZ_SECONDS");
  return from_env != nullptr ? std::strtod(from_env, nullptr) : 15.0;
}

// The byte ranges the attacker rewrites: everything but the seqlock words and payloads.
std::vector<std::pair<std::size_t, std::size_t>> target_ranges(const RegionTamper& region) {
  const detail::RegionHeader& header = region.header();
  std::vector<std::pair<std::size_t, std::size_t>> ranges{{0, header.header_size}};
  for (std::uint32_t slot = 0; slot < header.slot_count; ++slot) {
    const std::size_t base = header.header_size + std::size_t{slot} * header.slot_stride;
    ranges.emplace_back(base + offsetof(detail::SlotHeader, publish_seq),
                        base + offsetof(detail::SlotHeader, publish_ts_ns) + sizeof(std::int64_t));
  }
  return ranges;
}

class LiveRegionFuzz : public ProcessTest {};

TEST_F(LiveRegionFuzz, RewrittenHeaderTableDescriptorAndSlotHeadersNeverCrashHangOrMisleadAnyone) {
  ChildProcess& publisher = start("publisher", {"--count", "1000000000", "--interval-us", "200", "--slots", "3"});
  ASSERT_TRUE(publisher.wait_for_line("READY", patience)) << publisher.output();
  std::vector<ChildProcess*> subscribers;
  for (const char* mode : {"notify", "spin", "hybrid"}) {
    ChildProcess& subscriber = start("subscriber", {"--id", std::string("fuzzed-") + mode, "--mode", mode,
                                                    "--until-seq", "1000000000000", "--timeout-ms", "3600000"});
    ASSERT_TRUE(subscriber.wait_for_line("ATTACHED", patience)) << subscriber.output();
    subscribers.push_back(&subscriber);
  }

  RegionTamper region("/" + prefix_ + ":topic");
  const auto ranges = target_ranges(region);
  std::mt19937_64 random(std::random_device{}());
  const unsigned long long seed = random();
  random.seed(seed);
  RecordProperty("seed", std::to_string(seed));
  std::uint64_t mutations = 0;
  std::uint64_t tool_runs = 0;
  const auto end = Clock::now() + std::chrono::duration<double>(fuzz_seconds());
  auto next_tool = Clock::now();
  while (Clock::now() < end) {
    const auto& [begin, limit] = ranges[random() % ranges.size()];
    const std::size_t count = 1 + random() % 8;
    for (std::size_t index = 0; index < count && begin + index < limit; ++index) {
      const std::size_t offset = begin + (random() % (limit - begin));
      reinterpret_cast<volatile unsigned char*>(region.bytes())[offset] = static_cast<unsigned char>(random());
    }
    ++mutations;
    if (Clock::now() >= next_tool) {
      // Tools read what is there now: each must answer, with data or an error.
      next_tool = Clock::now() + std::chrono::milliseconds(500);
      for (const std::vector<std::string>& tool :
           {std::vector<std::string>{bin_dir() + "/shmsnap", "list", "--prefix", prefix_, "--json"},
            std::vector<std::string>{bin_dir() + "/shmsnap", "dump", "topic", "--prefix", prefix_}}) {
        ChildProcess run(tool);
        const std::optional<int> code = run.wait_exit(patience);
        ASSERT_TRUE(code.has_value()) << tool[1] << " hung (seed " << seed << ")";
        EXPECT_TRUE(*code == 0 || *code == 1 || *code == 4)
            << tool[1] << " exited " << *code << " (seed " << seed << ")";
        ++tool_runs;
      }
      // And an in-process reader opened now.
      try {
        RegionReader reader = RegionReader::open("/" + prefix_ + ":topic");
        SnapshotMeta meta;
        (void)reader.read_newest(meta);
        (void)reader.subscribers();
        (void)reader.schema_name();
      } catch (const Error&) {
        // refusing what it cannot validate is the point
      }
      ASSERT_FALSE(publisher.wait_exit(std::chrono::milliseconds(0)).has_value())
          << "the publisher died: " << publisher.output() << " (seed " << seed << ")";
    }
  }
  for (ChildProcess* subscriber : subscribers) {
    subscriber->signal(SIGTERM);
    const auto done = subscriber->wait_for_line("DONE", patience);
    ASSERT_TRUE(done) << "a subscriber hung: " << subscriber->output() << " (seed " << seed << ")";
    EXPECT_EQ(field(*done, "torn"), 0) << *done;
    EXPECT_EQ(field(*done, "regress"), 0) << *done;
    EXPECT_EQ(subscriber->wait_exit(patience), 0) << subscriber->output();
  }
  publisher.signal(SIGTERM);
  EXPECT_EQ(publisher.wait_exit(patience), 0) << publisher.output();
  std::printf("mutations=%llu tool_runs=%llu seed=%llu\n", static_cast<unsigned long long>(mutations),
              static_cast<unsigned long long>(tool_runs), seed);
}

}  // namespace
}  // namespace shmsnap::test
