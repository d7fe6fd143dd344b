// load_config_file: toml++ into BridgeConfig, strict about unknown keys.
#include "config.hpp"

#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "shmsnap/error.hpp"

namespace shmsnap::bridge {
namespace {

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const toml::node* node, const std::string& what) const {
    const std::string where = node != nullptr ? fmt::format("{}:{}", path_, node->source().begin.line) : path_;
    throw Error(Errc::invalid_argument,
                fmt::format("{}: {}; see 'shmsnap-bridge run --help' for the format", where, what));
  }

  // Every key of `table` must be one of `known`: a typo must not be silently ignored.
  void only(const toml::table& table, std::initializer_list<std::string_view> known, const std::string& where) const {
    const std::set<std::string_view> allowed(known);
    for (const auto& [key, node] : table) {
      if (!allowed.contains(key.str())) {
        fail(&node, fmt::format("unknown key '{}' in {}", key.str(), where));
      }
    }
  }

  template <class T>
  void get(const toml::table& table, std::string_view key, T& out) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return;
    }
    if constexpr (std::is_same_v<T, std::string>) {
      if (!node->is_string()) {
        fail(node, fmt::format("'{}' must be a string", key));
      }
      out = *node->value<std::string>();
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!node->is_boolean()) {
        fail(node, fmt::format("'{}' must be true or false", key));
      }
      out = *node->value<bool>();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!node->is_number()) {
        fail(node, fmt::format("'{}' must be a number", key));
      }
      out = *node->value<double>();
    } else {
      if (!node->is_integer() || *node->value<std::int64_t>() < 0) {
        fail(node, fmt::format("'{}' must be a non-negative integer", key));
      }
      out = static_cast<T>(*node->value<std::int64_t>());
    }
  }

  const toml::table& table_at(const toml::node& node, const std::string& what) const {
    if (!node.is_table()) {
      fail(&node, what + " must be a table");
    }
    return *node.as_table();
  }

 private:
  std::string path_;
};

}  // namespace

BridgeConfig load_config_file(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& error) {
    throw Error(Errc::invalid_argument, fmt::format("{}:{}: {}", path, error.source().begin.line, error.description()));
  }
  const Reader reader(path);
  reader.only(root,
              {"nats", "bucket", "replicas", "prefix", "socket_dir", "heartbeat_ms", "force", "window", "max_snapshot",
               "host_id", "auth", "tls", "export", "import", "export_all", "import_all"},
              "the top level");
  BridgeConfig config;
  if (const toml::node* nats = root.get("nats")) {
    config.nats.urls.clear();
    if (nats->is_string()) {
      config.nats.urls.push_back(*nats->value<std::string>());
    } else if (const toml::array* urls = nats->as_array()) {
      for (const auto& url : *urls) {
        if (!url.is_string()) {
          reader.fail(&url, "'nats' must hold URL strings");
        }
        config.nats.urls.push_back(*url.value<std::string>());
      }
    } else {
      reader.fail(nats, "'nats' must be a URL or an array of URLs");
    }
  }
  reader.get(root, "bucket", config.nats.bucket);
  reader.get(root, "replicas", config.nats.replicas);
  std::string prefix;
  reader.get(root, "prefix", prefix);
  config.exporter.prefix = prefix;
  config.importer.publisher.prefix = prefix;
  reader.get(root, "socket_dir", config.exporter.socket_dir);
  config.importer.publisher.socket_dir = config.exporter.socket_dir;  // this host's topics, both ways
  std::int64_t heartbeat_ms = config.exporter.heartbeat.count();
  reader.get(root, "heartbeat_ms", heartbeat_ms);
  config.exporter.heartbeat = std::chrono::milliseconds(heartbeat_ms);
  reader.get(root, "force", config.exporter.force);
  reader.get(root, "window", config.exporter.window);
  reader.get(root, "max_snapshot", config.exporter.max_snapshot_bytes);
  reader.get(root, "host_id", config.exporter.host_id);
  config.importer.own_host_id = config.exporter.host_id;
  if (const toml::node* node = root.get("export_all")) {
    const toml::table& table = reader.table_at(*node, "[export_all]");
    reader.only(table, {"max_rate", "scan_ms", "max_topics"}, "[export_all]");
    config.exporter.all = true;
    reader.get(table, "max_rate", config.exporter.all_max_rate_hz);
    std::int64_t scan_ms = config.exporter.scan_period.count();
    reader.get(table, "scan_ms", scan_ms);
    if (scan_ms < 10 || scan_ms > 60'000) {
      reader.fail(table.get("scan_ms"), "'scan_ms' must be 10..60000");
    }
    config.exporter.scan_period = std::chrono::milliseconds(scan_ms);
    reader.get(table, "max_topics", config.exporter.max_topics);
    if (config.exporter.max_topics == 0) {
      reader.fail(table.get("max_topics"), "'max_topics' must be at least 1");
    }
  }
  if (const toml::node* node = root.get("import_all")) {
    const toml::table& table = reader.table_at(*node, "[import_all]");
    reader.only(table, {"hosts", "max_keys"}, "[import_all]");
    config.importer.all = true;
    if (const toml::node* hosts = table.get("hosts")) {
      const toml::array* list = hosts->as_array();
      if (list == nullptr) {
        reader.fail(hosts, "'hosts' must be an array of host id strings");
      }
      for (const auto& host : *list) {
        if (!host.is_string()) {
          reader.fail(&host, "'hosts' must hold host id strings");
        }
        config.importer.hosts.push_back(*host.value<std::string>());
      }
    }
    reader.get(table, "max_keys", config.importer.max_keys);
    if (config.importer.max_keys == 0) {
      reader.fail(table.get("max_keys"), "'max_keys' must be at least 1");
    }
  }
  if (const toml::node* auth = root.get("auth")) {
    const toml::table& table = reader.table_at(*auth, "[auth]");
    reader.only(table, {"user", "password", "token", "nkey", "nkey_seed_file", "creds_file"}, "[auth]");
    reader.get(table, "user", config.nats.user);
    reader.get(table, "password", config.nats.password);
    reader.get(table, "token", config.nats.token);
    reader.get(table, "nkey", config.nats.nkey_public);
    reader.get(table, "nkey_seed_file", config.nats.nkey_seed_file);
    reader.get(table, "creds_file", config.nats.creds_file);
  }
  if (const toml::node* tls = root.get("tls")) {
    const toml::table& table = reader.table_at(*tls, "[tls]");
    reader.only(table, {"ca", "cert", "key"}, "[tls]");
    reader.get(table, "ca", config.nats.tls_ca_file);
    reader.get(table, "cert", config.nats.tls_cert_file);
    reader.get(table, "key", config.nats.tls_key_file);
  }
  const auto each = [&](const char* name, auto&& read) {
    if (const toml::node* node = root.get(name)) {
      const toml::array* entries = node->as_array();
      if (entries == nullptr) {
        reader.fail(node, fmt::format("'{}' must be an array of tables ([[{}]])", name, name));
      }
      for (const auto& entry : *entries) {
        read(reader.table_at(entry, fmt::format("each [[{}]]", name)), entry);
      }
    }
  };
  each("export", [&](const toml::table& table, const toml::node& node) {
    reader.only(table, {"topic", "key", "max_rate"}, "[[export]]");
    ExportRoute route;
    reader.get(table, "topic", route.topic);
    reader.get(table, "key", route.key);
    reader.get(table, "max_rate", route.max_rate_hz);
    if (route.topic.empty()) {
      reader.fail(&node, "[[export]] needs 'topic'");
    }
    config.exporter.routes.push_back(route);
  });
  each("import", [&](const toml::table& table, const toml::node& node) {
    reader.only(table, {"key", "as"}, "[[import]]");
    ImportRoute route;
    reader.get(table, "key", route.key);
    reader.get(table, "as", route.topic);
    if (route.key.empty()) {
      reader.fail(&node, "[[import]] needs 'key'");
    }
    config.importer.routes.push_back(route);
  });
  if (config.exporter.routes.empty() && config.importer.routes.empty() && !config.exporter.all &&
      !config.importer.all) {
    reader.fail(nullptr, "no [[export]], [[import]], [export_all] or [import_all] entry: nothing to bridge");
  }
  return config;
}

}  // namespace shmsnap::bridge
