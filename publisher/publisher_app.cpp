#include "publisher_app.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "generator.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/publisher.hpp"

namespace shmsnap::app {
namespace {

struct Settings {
  std::string topic;
  std::string schema;
  double rate = 10.0;
  std::uint64_t count = 0;
  double duration = 0.0;
  std::string prefix;
  std::string mode = "0640";
  std::uint32_t slots = 3;
  std::uint32_t max_subscribers = 64;
  std::string fan_out = "caller";
  std::string log_level = default_log_level();
  std::uint64_t seed = 0;
  std::uint32_t wait_subscribers = 0;
  std::string socket_dir;
  std::vector<std::string> allow_uids;
  std::vector<std::string> allow_gids;
};

constexpr std::int64_t second_ns = 1'000'000'000;

void configure(CLI::App& app, Settings& settings) {
  app.description(
      "Feeds a shmsnap topic with realistic synthetic data for a bundled schema: a random-walk quote book "
      "(market.quote_book), a robot driving a figure eight (robot.pose) or a service's changing health "
      "counters (service.health).\n\n"
      "Output: stdout gets one 'ready topic=.. schema=.. epoch=.. pid=.. region=..' line once the topic "
      "exists (with --wait-subscribers, then 'subscribers=N attached' once they are), a 'stats ...' line every second "
      "(publish rate, subscribers, coalesced notifications, dead "
      "subscribers reclaimed) and a final 'done ...' line; logs and errors go to stderr. SIGINT/SIGTERM "
      "shut the topic down cleanly (subscribers are told, region and control queue unlinked) and exit 0.");
  app.add_option("--topic", settings.topic, "topic to create, [A-Za-z0-9_.-], at most 64 characters")->required();
  app.add_option("--schema", settings.schema, "bundled schema to publish")
      ->required()
      ->check(CLI::IsMember(generator_names()));
  app.add_option("--rate", settings.rate, "publishes per second; 0 = as fast as possible")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10'000'000.0));
  auto* count = app.add_option("--count", settings.count, "stop (and shut the topic down) after N publishes")
                    ->check(CLI::PositiveNumber);
  app.add_option("--duration", settings.duration, "stop after S seconds")->check(CLI::PositiveNumber)->excludes(count);
  add_prefix_option(app, settings.prefix);
  app.add_option("--mode", settings.mode, "octal permission mode of the region")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& text) {
            (void)parse_mode(text);
            return std::string();
          },
          "OCTAL"));
  app.add_option("--slots", settings.slots, "snapshot slots in the region")
      ->capture_default_str()
      ->check(CLI::Range(2, 255));
  app.add_option("--max-subscribers", settings.max_subscribers, "bound of the subscriber table")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--fan-out", settings.fan_out,
                 "who sends the per-subscriber notifications: the publishing loop (caller) or a notifier thread")
      ->capture_default_str()
      ->check(CLI::IsMember({"caller", "thread"}));
  app.add_option("--wait-subscribers", settings.wait_subscribers,
                 "publish nothing until N subscribers have attached (a recording or a test that must see the "
                 "first snapshot)")
      ->check(CLI::Range(0, 4096));
  add_socket_dir_option(app, settings.socket_dir);
  app.add_option("--allow-uid", settings.allow_uids,
                 "socket mode: also admit subscribers running as USER (name or uid; repeatable); by default "
                 "only this user and root");
  app.add_option("--allow-gid", settings.allow_gids,
                 "socket mode: also admit subscribers whose primary group is GROUP (name or gid; repeatable)");
  app.add_option("--seed", settings.seed, "random seed of the generator (0 = from the clock)");
  app.add_option("--log-level", settings.log_level, "trace, debug, info, warn, error, critical or off")
      ->capture_default_str()
      ->check(log_level_validator());
  app.footer(std::string(exit_code_help));
}

void print_stats(Io& io, const UntypedPublisher& core, std::int64_t elapsed_ns, std::uint64_t published_in_window,
                 std::int64_t window_ns) {
  const PublisherStats stats = core.stats();
  const double rate =
      window_ns > 0 ? static_cast<double>(published_in_window) * 1e9 / static_cast<double>(window_ns) : 0;
  io.out << fmt::format(
                "stats elapsed={:.0f}s rate={:.1f} published={} subscribers={} coalesced={} reclaimed={} "
                "seq={} epoch={}",
                static_cast<double>(elapsed_ns) / 1e9, rate, stats.published, stats.subscribers, stats.coalesced,
                stats.reclaimed, core.last_seq(), core.epoch())
         << std::endl;
}

// Holds the first publish until `wanted` subscribers are registered, or a signal
// asks to stop.
void wait_for_subscribers(const UntypedPublisher& core, std::uint32_t wanted, Io& io, spdlog::logger& logger) {
  if (wanted == 0) {
    return;
  }
  logger.info("waiting for {} subscriber(s) before the first publish", wanted);
  while (core.stats().subscribers < wanted) {
    if (io.stop.load(std::memory_order_relaxed)) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  io.out << "subscribers=" << core.stats().subscribers << " attached" << std::endl;
}

int publish(const Settings& settings, Io& io, spdlog::logger& logger) {
  const std::uint64_t seed = settings.seed != 0
                                 ? settings.seed
                                 : static_cast<std::uint64_t>(realtime_ns()) ^ static_cast<std::uint64_t>(getpid());
  std::unique_ptr<Generator> generator = make_generator(settings.schema, settings.topic, seed);
  const PublisherOptions options{.prefix = settings.prefix,
                                 .mode = parse_mode(settings.mode),
                                 .slot_count = settings.slots,
                                 .max_subscribers = settings.max_subscribers,
                                 .fan_out = settings.fan_out == "thread" ? FanOut::notifier_thread : FanOut::caller,
                                 .socket_dir = settings.socket_dir,
                                 .allow_uids = user_ids(settings.allow_uids, "--allow-uid"),
                                 .allow_gids = group_ids(settings.allow_gids, "--allow-gid")};
  const SchemaInfo& schema = generator->schema();
  UntypedPublisher core(settings.topic, schema, schema.size, options);
  const std::string where = settings.socket_dir.empty() ? "/dev/shm" + core.region_name()
                                                        : settings.socket_dir + "/" + settings.topic + ".sock";
  io.out << "ready topic=" << settings.topic << " schema=" << schema.name << " epoch=" << core.epoch()
         << " pid=" << getpid() << " region=" << where << std::endl;
  logger.info("publishing {} on topic '{}' ({}, epoch {}) at {}", schema.name, settings.topic, where, core.epoch(),
              settings.rate > 0 ? fmt::format("{} Hz", settings.rate) : std::string("full speed"));

  wait_for_subscribers(core, settings.wait_subscribers, io, logger);  // a stop request falls through to "done"

  const std::int64_t start = monotonic_ns();
  const std::int64_t period = settings.rate > 0 ? static_cast<std::int64_t>(1e9 / settings.rate) : 0;
  const std::int64_t end = settings.duration > 0 ? start + static_cast<std::int64_t>(settings.duration * 1e9) : 0;
  std::int64_t next_publish = start;
  std::int64_t next_stats = start + second_ns;
  std::int64_t window_start = start;
  std::uint64_t window_published = 0;
  std::uint64_t published = 0;
  const auto report_if_due = [&](std::int64_t now) {
    if (now >= next_stats) {
      print_stats(io, core, now - start, window_published, now - window_start);
      window_start = now;
      window_published = 0;
      next_stats += second_ns * ((now - next_stats) / second_ns + 1);
    }
  };

  while (!io.stop.load(std::memory_order_relaxed)) {
    std::int64_t now = monotonic_ns();
    if ((settings.count != 0 && published >= settings.count) || (end != 0 && now >= end)) {
      break;
    }
    core.publish(generator->next(Instant{.monotonic_ns = now, .realtime_ns = realtime_ns()}).data(), schema.size);
    ++published;
    ++window_published;
    report_if_due(now);
    if (period == 0) {
      continue;
    }
    next_publish += period;
    now = monotonic_ns();
    if (next_publish < now - second_ns) {
      next_publish = now;  // fell far behind (stopped, overloaded): do not burst to catch up
    }
    // Sleep in slices so a signal or the stats tick is never late by more than 100 ms.
    while (now < next_publish && !io.stop.load(std::memory_order_relaxed)) {
      const std::int64_t slice = std::min<std::int64_t>(next_publish - now, 100'000'000);
      std::this_thread::sleep_for(std::chrono::nanoseconds(slice));
      now = monotonic_ns();
      report_if_due(now);
    }
  }
  // Read everything first: the core's accessors are unusable after shutdown().
  const PublisherStats stats = core.stats();
  const std::uint64_t last_seq = core.last_seq();
  const std::uint64_t epoch = core.epoch();
  core.shutdown();
  io.out << "done published=" << published << " seq=" << last_seq << " epoch=" << epoch
         << " coalesced=" << stats.coalesced << " reclaimed=" << stats.reclaimed << std::endl;
  logger.info("topic '{}' shut down after {} publishes", settings.topic, published);
  return exit_ok;
}

}  // namespace

int run_publisher(const std::vector<std::string>& args, Io& io) {
  CLI::App app;
  app.name("shmsnap-publisher");
  Settings settings;
  configure(app, settings);
  return parse_and_run(app, args, io, [&] {
    validate_name("topic", settings.topic, max_topic_length);
    (void)resolve_prefix(settings.prefix);  // a bad --prefix is a usage error before anything is created
    auto logger = make_logger("shmsnap-publisher", io.err, settings.log_level);
    return publish(settings, io, *logger);
  });
}

}  // namespace shmsnap::app
