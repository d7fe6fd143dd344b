#include "daemon.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#if SHMSNAP_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "latency_reservoir.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/poller.hpp"
#include "shmsnap/schema_json.hpp"
#include "shmsnap/subscriber.hpp"
#include "subscriber_metrics.hpp"

namespace shmsnap::app {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::int64_t text_line_interval_ns = 100'000'000;  // at most 10 readable lines/s per topic
constexpr std::int64_t attach_retry_ns = 100'000'000;
constexpr std::size_t max_wait_reasons_said = 16;
constexpr auto loop_tick = std::chrono::milliseconds(100);
constexpr std::size_t text_data_width = 160;

struct Settings {
  std::vector<std::string> topics;
  std::string id;
  std::string mode = "notify";
  bool json = false;
  std::uint64_t count = 0;
  double timeout = 0;
  double stall_timeout = 2.0;  ///< SubscriberOptions::stall_timeout, in seconds
  std::string prefix;
  std::vector<std::string> trust_owners;
  std::string socket_dir;  ///< socket mode: DIR/<topic>.sock; "" = named mode
  std::string log_level = default_log_level();
  std::string metrics;  ///< HOST:PORT of a Prometheus /metrics endpoint; "" = none
  bool metrics_allow_remote = false;
};

/// Rate limit of the stall/resume lines of one topic: a publisher hovering around
/// the stall timeout flips on every beat or two. The first change is logged, then
/// at most one per interval, counting the changes not logged in between (--json
/// still emits every event: that is data, not a log).
class FlapLimiter {
 public:
  static constexpr std::int64_t interval_ns = 10'000'000'000;

  /// The count of changes not logged since the last logged one when this one is
  /// to be logged; nullopt when it is to be counted only.
  std::optional<std::uint64_t> admit(std::int64_t now_ns) noexcept {
    if (last_logged_ns_ != 0 && now_ns - last_logged_ns_ < interval_ns) {
      ++unlogged_;
      return std::nullopt;
    }
    last_logged_ns_ = now_ns;
    return std::exchange(unlogged_, 0);
  }

 private:
  std::int64_t last_logged_ns_ = 0;
  std::uint64_t unlogged_ = 0;
};

std::string flaps_between(std::uint64_t unlogged) {
  return unlogged == 0 ? std::string()
                       : fmt::format(" (after {} more stall/resume changes not logged in the last {} s)", unlogged,
                                     FlapLimiter::interval_ns / 1'000'000'000);
}

/// One followed topic and what the daemon learned about it.
struct Follower {
  std::string topic;
  std::unique_ptr<UntypedSubscriber> core;
  std::string codec_descriptor;  // the descriptor `codec` was built from
  std::optional<SnapshotCodec> codec;
  stats::LatencyReservoir latency;
  std::uint64_t refreshes = 0;
  std::uint64_t skipped = 0;
  std::int64_t last_line_ns = 0;
  std::uint64_t unprinted = 0;
  std::int64_t next_attach_ns = 0;
  FlapLimiter flaps;
  std::string last_wait_reason;             // why the last attach failed, said again at the timeout
  std::set<std::string> wait_reasons_said;  // each said once
  bool next_is_initial = false;             // the first refresh after a re-attach is a state found at attach
};

void configure(CLI::App& app, Settings& settings) {
  app.description(
      "Keeps the latest state of one or more shmsnap topics from one event loop, whatever their schema, "
      "and prints each refresh. Waits for a publisher that is not there yet, and follows a restarted "
      "publisher by itself.\n\n"
      "Output: with --json one JSON object per refresh on stdout: topic, seq, epoch, latency_ns "
      "(receive - publish, CLOCK_MONOTONIC), skipped, stale, data (decoded through the region's schema; "
      "\"initial\": true marks the state found at attach), plus status objects "
      "{\"topic\",\"event\":\"attached|publisher_lost|reattached\",\"epoch\",...}. Without --json a "
      "readable line per refresh, at most 10 per second per topic. Status changes and logs go to stderr; "
      "at exit a summary per topic: 'topic T id ID: N updates, latency p50 X us, p99 Y us, skipped S'. "
      "SIGINT/SIGTERM exit 0 (BYE sent, notify queues removed). Under systemd (Type=notify) READY=1 is "
      "sent once every topic is attached.");
  app.add_option("--topic", settings.topics, "topic to follow; repeat for several")->required();
  app.add_option("--id", settings.id, "subscriber id, unique per topic ([A-Za-z0-9_.-], at most 47)")->required();
  app.add_option("--mode", settings.mode, "wait mode: notify (block on the queue), spin (poll, lowest latency), hybrid")
      ->capture_default_str()
      ->check(CLI::IsMember({"notify", "spin", "hybrid"}));
  app.add_flag("--json", settings.json, "one JSON object per refresh on stdout");
  app.add_option("--count", settings.count, "exit 0 once every topic has had N refreshes (the state at attach counts)")
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout", settings.timeout,
                 "exit 4 when a topic has no publisher after S seconds, or nothing arrives for S seconds")
      ->check(CLI::PositiveNumber);
  app.add_option("--stall-timeout", settings.stall_timeout,
                 "call a topic stale when its publisher has not beaten for S seconds (stopped or hung)")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0));
  add_prefix_option(app, settings.prefix);
  add_trust_owner_option(app, settings.trust_owners);
  add_socket_dir_option(app, settings.socket_dir);
  app.add_option("--log-level", settings.log_level, "trace, debug, info, warn, error, critical or off")
      ->capture_default_str()
      ->check(log_level_validator());
  app.add_option("--metrics", settings.metrics,
                 "serve Prometheus metrics (refreshes, skipped, stale, latency histogram) at http://HOST:PORT/metrics; "
                 "prints 'metrics http=HOST:PORT' (with --json an {\"event\":\"metrics\"} object) once listening");
  app.add_flag("--metrics-allow-remote", settings.metrics_allow_remote, "allow a non-loopback --metrics address");
  app.footer(std::string(exit_code_help));
}

WaitMode wait_mode(const std::string& name) {
  return name == "spin" ? WaitMode::spin : name == "hybrid" ? WaitMode::hybrid : WaitMode::notify;
}

void systemd_notify([[maybe_unused]] const std::string& state) {
#if SHMSNAP_HAVE_SYSTEMD
  sd_notify(0, state.c_str());
#endif
}

class Daemon {
 public:
  Daemon(const Settings& settings, Io& io, spdlog::logger& logger) : settings_(settings), io_(io), logger_(logger) {
    for (const std::string& topic : settings.topics) {
      auto follower = std::make_unique<Follower>();
      follower->topic = topic;
      followers_.push_back(std::move(follower));
    }
    if (!settings.metrics.empty()) {
      metrics_ = std::make_unique<SubscriberMetrics>(http::parse_endpoint(settings.metrics),
                                                     settings.metrics_allow_remote, settings.id);
      const http::Endpoint bound = metrics_->endpoint();
      const std::string address = bound.host + ":" + std::to_string(bound.port);
      if (settings.json) {
        emit(Json{{"event", "metrics"}, {"address", address}});
      } else {
        io_.out << "metrics http=" << address << std::endl;
      }
    }
  }

  int run() {
    const std::int64_t start = monotonic_ns();
    last_activity_ns_ = start;
    const auto timeout_ns = static_cast<std::int64_t>(settings_.timeout * 1e9);
    bool ready = false;
    int code = exit_ok;
    while (!io_.stop.load(std::memory_order_relaxed)) {
      const std::int64_t now = monotonic_ns();
      std::size_t attached = 0;
      for (auto& follower : followers_) {
        if (!follower->core && now >= follower->next_attach_ns) {
          // An attach may not outlast --timeout (its HELLO exchange is bounded by this).
          try_attach(*follower, timeout_ns > 0 ? std::max<std::int64_t>(1'000'000, start + timeout_ns - now) : 0);
        }
        attached += follower->core ? 1 : 0;
      }
      if (!ready && attached == followers_.size()) {
        ready = true;
        systemd_notify(fmt::format("READY=1\nSTATUS=following {} topic(s) as '{}'", attached, settings_.id));
      }
      if (settings_.count != 0 && all_counted()) {
        break;
      }
      if (timeout_ns > 0 && now - start >= timeout_ns && attached < followers_.size()) {
        for (const auto& follower : followers_) {
          if (!follower->core) {
            io_.err << fmt::format("shmsnap-subscriber: no publisher for topic '{}' appeared within {} s{}",
                                   follower->topic, settings_.timeout,
                                   follower->last_wait_reason.empty() ? "" : ": " + follower->last_wait_reason)
                    << std::endl;
          }
        }
        code = exit_timed_out;
        break;
      }
      if (timeout_ns > 0 && attached == followers_.size() && now - last_activity_ns_ >= timeout_ns) {
        io_.err << fmt::format("shmsnap-subscriber: nothing arrived for {} s", settings_.timeout) << std::endl;
        code = exit_timed_out;
        break;
      }
      if (attached == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      } else {
        wait_once(attached == 1);
      }
    }
    systemd_notify("STOPPING=1");
    print_summary();
    return code;
  }

 private:
  void try_attach(Follower& follower, std::int64_t budget_ns) {
    SubscriberOptions options{.prefix = settings_.prefix, .id = settings_.id, .mode = wait_mode(settings_.mode)};
    options.trusted_owners = trusted_uids(settings_.trust_owners);
    options.socket_dir = settings_.socket_dir;
    options.stall_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(settings_.stall_timeout * 1e3));
    if (budget_ns > 0) {
      options.attach_timeout = std::min(
          options.attach_timeout, std::chrono::ceil<std::chrono::milliseconds>(std::chrono::nanoseconds(budget_ns)));
    }
    try {
      follower.core = std::make_unique<UntypedSubscriber>(follower.topic, nullptr, options);
    } catch (const Error& error) {
      // Not there yet, being created, or not answering yet: a daemon waits for it.
      // permission_denied too: it is most often another user squatting the topic's
      // region or our queue's name, and the real publisher may yet replace it.
      const bool transient = error.code() == Errc::not_found || error.code() == Errc::invalid_region ||
                             error.code() == Errc::timed_out || error.code() == Errc::protocol ||
                             error.code() == Errc::permission_denied;
      if (!transient) {
        throw;
      }
      follower.last_wait_reason = error.what();
      // Each reason once: a cause that comes and goes must not log every retry.
      if (follower.wait_reasons_said.size() < max_wait_reasons_said &&
          follower.wait_reasons_said.insert(follower.last_wait_reason).second) {
        if (error.code() == Errc::permission_denied) {
          logger_.warn("topic '{}': waiting for a publisher this user may follow: {}", follower.topic, error.what());
        } else {
          logger_.info("topic '{}': waiting for a publisher ({})", follower.topic, error.what());
        }
      }
      follower.next_attach_ns = monotonic_ns() + attach_retry_ns;
      return;
    }
    UntypedSubscriber& core = *follower.core;
    core.on_update([this, &follower](const UpdateInfo& info) {
      on_refresh(follower, info, std::exchange(follower.next_is_initial, false));
    });
    core.on_status([this, &follower](StatusEvent event, const UpdateInfo& info) { on_status(follower, event, info); });
    poller_.add(core);
    if (metrics_) {
      metrics_->record_attached(follower.topic, true);
    }
    logger_.info("topic '{}': attached as '{}' to publisher pid {} (epoch {})", follower.topic, settings_.id,
                 core.publisher_pid(), core.info().epoch);
    if (settings_.json) {
      emit(Json{{"topic", follower.topic},
                {"event", "attached"},
                {"epoch", core.info().epoch},
                {"publisher_pid", core.publisher_pid()}});
    }
    last_activity_ns_ = monotonic_ns();
    if (core.has_value()) {
      on_refresh(follower, core.info(), true);  // a late joiner starts with the current state
    }
  }

  void wait_once(bool single) {
    switch (wait_mode(settings_.mode)) {
      case WaitMode::notify:
        poller_.wait(loop_tick);
        return;
      case WaitMode::spin:
        // Spin subscribers get no notifications: poll each one's published sequence.
        for (auto& follower : followers_) {
          if (follower->core) {
            follower->core->wait(single ? std::chrono::nanoseconds(loop_tick) : std::chrono::nanoseconds(0));
          }
        }
        return;
      case WaitMode::hybrid:
        if (single) {
          for (auto& follower : followers_) {
            if (follower->core) {
              follower->core->wait(loop_tick);
            }
          }
          return;
        }
        for (auto& follower : followers_) {
          if (follower->core) {
            follower->core->wait(std::chrono::nanoseconds(0));  // its bounded spin, then a non-blocking look
          }
        }
        poller_.wait(loop_tick);
        return;
    }
  }

  void on_refresh(Follower& follower, const UpdateInfo& info, bool initial) {
    ++follower.refreshes;
    follower.skipped += info.skipped;
    last_activity_ns_ = monotonic_ns();
    const std::int64_t latency = info.receive_ts_ns - info.publish_ts_ns;
    if (!initial) {
      follower.latency.add(latency);
    }
    if (metrics_) {
      // The state found at attach was published before we looked: no latency.
      metrics_->record_refresh(follower.topic, initial ? -1 : latency, info.skipped, info.stale);
    }
    if (settings_.json) {
      Json line{{"topic", follower.topic}, {"seq", info.seq},         {"epoch", info.epoch},
                {"latency_ns", latency},   {"skipped", info.skipped}, {"stale", info.stale}};
      if (initial) {
        line["initial"] = true;
      }
      line["data"] = decode(follower);
      emit(line);
      return;
    }
    const std::int64_t now = monotonic_ns();
    if (!initial && now - follower.last_line_ns < text_line_interval_ns) {
      ++follower.unprinted;
      return;
    }
    follower.last_line_ns = now;
    std::string data = decode(follower).dump();
    if (data.size() > text_data_width) {
      data = data.substr(0, text_data_width - 3) + "...";
    }
    io_.out << fmt::format("{} seq={} epoch={} latency={:.1f}us skipped={}{}{} {}", follower.topic, info.seq,
                           info.epoch, static_cast<double>(latency) / 1e3, info.skipped,
                           follower.unprinted > 0 ? fmt::format(" (+{} not shown)", follower.unprinted) : "",
                           initial ? " (state at attach)" : "", data)
            << std::endl;
    follower.unprinted = 0;
  }

  void on_status(Follower& follower, StatusEvent event, const UpdateInfo& info) {
    if (metrics_) {
      metrics_->record_attached(follower.topic, event != StatusEvent::publisher_lost);
    }
    const char* name = "";
    switch (event) {
      case StatusEvent::publisher_lost:
        name = "publisher_lost";
        logger_.warn(
            "topic '{}': publisher lost; keeping the last state (epoch {}, seq {}) as stale until a new "
            "publisher appears",
            follower.topic, info.epoch, info.seq);
        break;
      case StatusEvent::reattached:
        name = "reattached";
        follower.next_is_initial = true;
        logger_.info("topic '{}': re-attached to publisher pid {} (epoch {})", follower.topic,
                     follower.core->publisher_pid(), info.epoch);
        break;
      case StatusEvent::publisher_stalled:
        name = "publisher_stalled";
        if (const auto unlogged = follower.flaps.admit(monotonic_ns())) {
          logger_.warn("topic '{}': publisher pid {} stopped beating; the state (seq {}) is stale until it moves{}",
                       follower.topic, follower.core->publisher_pid(), info.seq, flaps_between(*unlogged));
        }
        break;
      case StatusEvent::publisher_resumed:
        name = "publisher_resumed";
        if (const auto unlogged = follower.flaps.admit(monotonic_ns())) {
          logger_.info("topic '{}': publisher pid {} beats again{}", follower.topic, follower.core->publisher_pid(),
                       flaps_between(*unlogged));
        }
        break;
    }
    if (settings_.json) {
      Json line{{"topic", follower.topic}, {"event", name}, {"epoch", info.epoch}, {"seq", info.seq}};
      if (event != StatusEvent::publisher_lost) {
        line["publisher_pid"] = follower.core->publisher_pid();
      }
      emit(line);
    }
  }

  Json decode(Follower& follower) {
    const UntypedSubscriber& core = *follower.core;
    try {
      // A successor publisher may carry another schema version: rebuild on change.
      if (!follower.codec || follower.codec_descriptor != core.descriptor()) {
        follower.codec.emplace(core.descriptor());
        follower.codec_descriptor = core.descriptor();
      }
      return follower.codec->decode_ordered(core.bytes());
    } catch (const Error& error) {
      logger_.error("topic '{}': cannot decode the snapshot: {}", follower.topic, error.what());
      return nullptr;
    }
  }

  void emit(const Json& line) { io_.out << line.dump() << std::endl; }

  [[nodiscard]] bool all_counted() const {
    for (const auto& follower : followers_) {
      if (follower->refreshes < settings_.count) {
        return false;
      }
    }
    return true;
  }

  void print_summary() {
    for (const auto& follower : followers_) {
      io_.err << fmt::format("topic {} id {}: {} updates, latency p50 {:.1f} us, p99 {:.1f} us, skipped {}",
                             follower->topic, settings_.id, follower->refreshes,
                             static_cast<double>(follower->latency.percentile(0.50)) / 1e3,
                             static_cast<double>(follower->latency.percentile(0.99)) / 1e3, follower->skipped)
              << std::endl;
    }
  }

  const Settings& settings_;
  Io& io_;
  spdlog::logger& logger_;
  std::vector<std::unique_ptr<Follower>> followers_;  // outlive poller_: it holds their cores
  Poller poller_;
  std::int64_t last_activity_ns_ = 0;
  std::unique_ptr<SubscriberMetrics> metrics_;  // --metrics
};

}  // namespace

bool systemd_notify_built_in() noexcept {
  return SHMSNAP_HAVE_SYSTEMD != 0;
}

int run_subscriber_daemon(const std::vector<std::string>& args, Io& io) {
  CLI::App app;
  app.name("shmsnap-subscriber");
  Settings settings;
  configure(app, settings);
  return parse_and_run(app, args, io, [&] {
    for (const std::string& topic : settings.topics) {
      validate_name("topic", topic, max_topic_length);
      for (const std::string& other : settings.topics) {
        if (&other != &topic && other == topic) {
          throw Error(Errc::invalid_argument, "topic '" + topic + "' is given twice");
        }
      }
    }
    validate_name("subscriber id", settings.id, max_subscriber_id_length);
    (void)resolve_prefix(settings.prefix);
    auto logger = make_logger("shmsnap-subscriber", io.err, settings.log_level);
    Daemon daemon(settings, io, *logger);
    return daemon.run();
  });
}

}  // namespace shmsnap::app
