// shmsnap-bridge: CLI11 front end over bridge::Bridge.
#include "bridge_app.hpp"

#include <csignal>
#include <thread>

#include <fmt/format.h>

#include "bridge.hpp"
#include "chunks.hpp"
#include "config.hpp"
#include "shmsnap/error.hpp"

namespace shmsnap::app {
namespace {

std::atomic<bool> counters_requested{false};

void on_counter_signal(int /*signal*/) {
  counters_requested.store(true);
}

struct Flags {
  std::vector<std::string> nats;
  std::string bucket;
  int replicas = 0;
  std::string prefix;
  std::string socket_dir;  ///< export, import, run: socket mode of this host's topics
  long heartbeat_ms = -1;
  std::string user;
  std::string password;
  std::string token;
  std::string nkey;
  std::string nkey_seed_file;
  std::string creds_file;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string log_level = default_log_level();
  // export
  std::vector<std::string> topics;
  std::vector<std::string> keys;
  double max_rate = 0;
  std::size_t window = 0;
  std::uint64_t max_snapshot = 0;
  bool force = false;
  // import
  std::vector<std::string> as;
  // --all
  bool all = false;
  std::string host_id;
  long scan_ms = 0;
  std::size_t max_topics = 0;
  std::vector<std::string> hosts;
  // run
  std::string config_file;
};

void add_common(CLI::App& command, Flags& flags) {
  command.add_option("--nats", flags.nats, "NATS server URL(s), comma-separated or repeated (several for a cluster)")
      ->delimiter(',');
  command.add_option("--bucket", flags.bucket,
                     "Key-Value bucket (default 'shmsnap'; created with history 1 if missing)");
  command.add_option("--replicas", flags.replicas, "replicas of a bucket this bridge creates (JetStream cluster)")
      ->check(CLI::Range(1, 5));
  command.add_option("--prefix", flags.prefix, "local resource namespace (default $SHMSNAP_PREFIX or 'shmsnap')");
  command
      .add_option("--heartbeat-ms", flags.heartbeat_ms,
                  "export: re-put period while idle (importers mark stale after 3 periods); default 1000")
      ->check(CLI::Range(10L, 3'600'000L));
  command.add_option("--user", flags.user, "NATS user (with --password)");
  command.add_option("--password", flags.password, "NATS password (or $SHMSNAP_NATS_PASSWORD)")
      ->envname("SHMSNAP_NATS_PASSWORD");
  command.add_option("--token", flags.token, "NATS token (or $SHMSNAP_NATS_TOKEN)")->envname("SHMSNAP_NATS_TOKEN");
  command.add_option("--nkey", flags.nkey, "NATS user NKey public key (with --nkey-seed-file)");
  command.add_option("--nkey-seed-file", flags.nkey_seed_file, "file holding the user's NKey seed")
      ->check(CLI::ExistingFile);
  command.add_option("--creds", flags.creds_file, "NATS .creds file (JWT and seed)")->check(CLI::ExistingFile);
  command.add_option("--tls-ca", flags.tls_ca, "CA certificate(s) to verify the server (enables TLS)")
      ->check(CLI::ExistingFile);
  command.add_option("--tls-cert", flags.tls_cert, "client certificate (with --tls-key)")->check(CLI::ExistingFile);
  command.add_option("--tls-key", flags.tls_key, "client private key")->check(CLI::ExistingFile);
  command.add_option("--host-id", flags.host_id,
                     "this host's key token for --all (default: 12 hex digits of /etc/machine-id, else the hostname)");
  command.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error, critical or off")
      ->check(log_level_validator());
}

// Socket mode for this host's topics: the exporter follows them there, the importer
// offers what it republishes there.
void add_socket_dir(CLI::App& command, Flags& flags, const char* what) {
  add_socket_dir_option(command, flags.socket_dir)
      ->description(std::string("socket mode: ") + what +
                    "; default $SHMSNAP_SOCKET_DIR, unset: named mode (the prefix's /dev/shm names)");
}

constexpr const char* export_socket_help = "export topics through DIR/<topic>.sock (with --all: every socket there)";
constexpr const char* import_socket_help =
    "publish imported topics at DIR/<topic>.sock (a sealed memfd each, subscribers map it read-only; no message "
    "queue is created, so the host's queue limit does not bound how many are imported)";

// Flags override the config file's values when both are given.
void apply_common(const Flags& flags, bridge::BridgeConfig& config) {
  if (!flags.nats.empty()) {
    config.nats.urls = flags.nats;
  }
  if (!flags.bucket.empty()) {
    config.nats.bucket = flags.bucket;
  }
  if (flags.replicas > 0) {
    config.nats.replicas = flags.replicas;
  }
  if (!flags.prefix.empty()) {
    config.exporter.prefix = flags.prefix;
    config.importer.publisher.prefix = flags.prefix;
  }
  if (flags.heartbeat_ms > 0) {
    config.exporter.heartbeat = std::chrono::milliseconds(flags.heartbeat_ms);
  }
  const auto set = [](const std::string& value, std::string& target) {
    if (!value.empty()) {
      target = value;
    }
  };
  set(flags.socket_dir, config.exporter.socket_dir);
  set(flags.socket_dir, config.importer.publisher.socket_dir);
  set(flags.user, config.nats.user);
  set(flags.password, config.nats.password);
  set(flags.token, config.nats.token);
  set(flags.nkey, config.nats.nkey_public);
  set(flags.nkey_seed_file, config.nats.nkey_seed_file);
  set(flags.creds_file, config.nats.creds_file);
  set(flags.tls_ca, config.nats.tls_ca_file);
  set(flags.tls_cert, config.nats.tls_cert_file);
  set(flags.tls_key, config.nats.tls_key_file);
  config.exporter.force = config.exporter.force || flags.force;
  set(flags.host_id, config.exporter.host_id);
  set(flags.host_id, config.importer.own_host_id);
  if (flags.max_snapshot > 0) {
    config.exporter.max_snapshot_bytes = flags.max_snapshot;
  }
  if (flags.window > 0) {
    config.exporter.window = flags.window;
  }
  if (flags.scan_ms > 0) {
    config.exporter.scan_period = std::chrono::milliseconds(flags.scan_ms);
  }
  if (flags.max_topics > 0) {
    config.exporter.max_topics = flags.max_topics;
    config.importer.max_keys = flags.max_topics;
  }
}

}  // namespace

void install_counter_signal() noexcept {
  struct sigaction action {};
  action.sa_handler = on_counter_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
}

int run_bridge(const std::vector<std::string>& args, Io& io) {
  CLI::App app("Carries shmsnap topics between hosts through a NATS JetStream Key-Value bucket.", "shmsnap-bridge");
  app.footer(
      "Each exported refresh is one value under its key (an envelope: epoch, seq, times, schema fingerprint, "
      "origin, then the raw snapshot); the schema record is under '<key>/schema'. Importers republish into a "
      "local topic with the same schema and mark it stale when the origin is lost or silent for 3 heartbeats. "
      "stdout: 'ready ...' once running; on SIGUSR1 'counters ...' and one 'import key=K ... stale=0|1 ...' line "
      "per imported key; 'counters ...' again at exit. " +
      std::string(exit_code_help));
  app.require_subcommand(1);
  Flags flags;
  CLI::App* export_command = app.add_subcommand("export", "put refreshes of local topics to NATS");
  add_common(*export_command, flags);
  add_socket_dir(*export_command, flags, export_socket_help);
  export_command->add_option("--topic", flags.topics, "local topic to export; repeat for several");
  export_command->add_flag("--all", flags.all,
                           "export every topic of --prefix as it appears (key '<host id>.<topic>'); a topic whose "
                           "region goes is dropped and its keys deleted");
  export_command->add_option("--scan-ms", flags.scan_ms, "--all: how often to list the prefix's topics (default 250)")
      ->check(CLI::Range(10L, 60'000L));
  export_command->add_option("--max-topics", flags.max_topics, "--all: follow at most N topics (default 1024)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
  export_command->add_option("--key", flags.keys,
                             "Key-Value key per --topic, in order (default: the topic name; e.g. host1.quotes)");
  export_command
      ->add_option("--max-rate", flags.max_rate, "at most HZ puts per topic per second (latest wins); 0 = all")
      ->check(CLI::NonNegativeNumber);
  export_command
      ->add_option("--window", flags.window,
                   "puts awaiting their acks at once, over all keys (default 256; one per key, the rest conflated)")
      ->check(CLI::Range(std::size_t{1}, bridge::max_async_puts));
  export_command
      ->add_option("--max-snapshot", flags.max_snapshot,
                   "largest snapshot exported, in bytes (default 64 MiB); above the server's max_payload a snapshot "
                   "crosses in chunks")
      ->check(CLI::Range(std::uint64_t{1}, bridge::max_chunked_size));
  export_command->add_flag("--force", flags.force, "export a topic even if it was imported by a bridge (a loop)");
  CLI::App* import_command = app.add_subcommand("import", "republish Key-Value keys as local topics");
  add_common(*import_command, flags);
  add_socket_dir(*import_command, flags, import_socket_help);
  import_command->add_option("--key", flags.keys, "Key-Value key to import; repeat for several");
  import_command->add_flag("--all", flags.all,
                           "import every key '<host>.<topic>' of the --host(s) (default: every host but this one) as "
                           "local topic '<host>.<topic>', as keys appear; a deleted key drops its topic");
  import_command->add_option("--host", flags.hosts, "--all: a host id to mirror; repeat for several");
  import_command->add_option("--max-keys", flags.max_topics, "--all: follow at most N keys (default 1024)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
  import_command->add_option("--as", flags.as, "local topic name per --key, in order (default: the key)");
  CLI::App* run_command = app.add_subcommand("run", "export and import as a TOML file says (see bridge/README.md)");
  add_common(*run_command, flags);
  add_socket_dir(*run_command, flags, "both of the above: export from and import to DIR");
  run_command->add_option("--config", flags.config_file, "TOML configuration file")
      ->required()
      ->check(CLI::ExistingFile);
  try {
    parse(app, args);
  } catch (const CLI::ParseError& error) {
    return parse_exit(app, error, io);
  }

  try {
    auto logger = make_logger("shmsnap-bridge", io.err, flags.log_level);
    spdlog::set_default_logger(logger);
  } catch (const CLI::ValidationError& error) {
    io.err << error.what() << '\n';
    return exit_usage;
  }

  bridge::BridgeConfig config;
  try {
    if (run_command->parsed()) {
      config = bridge::load_config_file(flags.config_file);
    } else if (export_command->parsed()) {
      if (flags.topics.empty() && !flags.all) {
        throw Error(Errc::invalid_argument, "export needs --topic (repeatable) or --all");
      }
      config.exporter.all = flags.all;
      config.exporter.all_max_rate_hz = flags.max_rate;
      if (!flags.keys.empty() && flags.keys.size() != flags.topics.size()) {
        throw Error(Errc::invalid_argument, "give one --key per --topic (in the same order), or none");
      }
      for (std::size_t index = 0; index < flags.topics.size(); ++index) {
        config.exporter.routes.push_back({.topic = flags.topics[index],
                                          .key = flags.keys.empty() ? "" : flags.keys[index],
                                          .max_rate_hz = flags.max_rate});
      }
    } else {
      if (flags.keys.empty() && !flags.all) {
        throw Error(Errc::invalid_argument, "import needs --key (repeatable) or --all");
      }
      if (!flags.hosts.empty() && !flags.all) {
        throw Error(Errc::invalid_argument, "--host selects what --all imports; add --all, or name keys with --key");
      }
      config.importer.all = flags.all;
      config.importer.hosts = flags.hosts;
      if (!flags.as.empty() && flags.as.size() != flags.keys.size()) {
        throw Error(Errc::invalid_argument, "give one --as per --key (in the same order), or none");
      }
      for (std::size_t index = 0; index < flags.keys.size(); ++index) {
        config.importer.routes.push_back({.key = flags.keys[index], .topic = flags.as.empty() ? "" : flags.as[index]});
      }
    }
    apply_common(flags, config);
  } catch (const Error& error) {
    io.err << "shmsnap-bridge: " << error.what() << '\n';
    return exit_code_for(error);
  }

  try {
    bridge::Bridge running(config);
    io.out << fmt::format("ready exports={}{} imports={}{} nats={} bucket={}", config.exporter.routes.size(),
                          config.exporter.all ? "+all" : "", config.importer.routes.size(),
                          config.importer.all ? "+all" : "", running.link().connected_url(), config.nats.bucket)
           << std::endl;
    while (!io.stop.load()) {
      // A daemon's idle loop, not a synchronisation: the work runs on the bridge's threads.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (counters_requested.exchange(false)) {
        io.out << "counters " << running.counters().summary() << std::endl;
        for (const auto& route : running.import_routes()) {
          const bridge::ImportState state = running.import_state(route.key);
          io.out << fmt::format("import key={} topic={} has_value={} stale={} live={} epoch={} seq={}", route.key,
                                route.topic.empty() ? route.key : route.topic, int{state.has_value}, int{state.stale},
                                int{state.local_live}, state.epoch, state.seq)
                 << std::endl;
        }
      }
    }
    io.out << "counters " << running.counters().summary() << std::endl;
  } catch (const Error& error) {
    io.err << "shmsnap-bridge: " << error.what() << '\n';
    return exit_code_for(error);
  }
  return exit_ok;
}

}  // namespace shmsnap::app
