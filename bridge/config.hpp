// BridgeConfig: everything one shmsnap-bridge process does (NATS connection,
// exported topics, imported keys), filled from flags or from a TOML file.
// Plain data plus a pure loader; callable from any thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "exporter.hpp"
#include "importer.hpp"
#include "nats_link.hpp"

namespace shmsnap::bridge {

struct BridgeConfig {
  NatsSettings nats;
  ExporterOptions exporter;  ///< routes empty = no export
  ImporterOptions importer;  ///< routes empty = no import
};

/// Reads a TOML configuration file:
///
///   nats = ["nats://10.0.0.5:4222", "nats://10.0.0.6:4222"]
///   bucket = "shmsnap"        # optional
///   replicas = 1              # optional
///   prefix = "shmsnap"        # optional: local namespace
///   socket_dir = "/srv/sock"  # optional: export from and import to DIR/<topic>.sock (socket mode)
///   heartbeat_ms = 1000       # optional
///   force = false             # optional: export imported topics anyway
///   window = 256              # optional: export puts awaiting acks at once
///   max_snapshot = 67108864   # optional: largest snapshot exported (chunked above max_payload)
///   host_id = "rack4-node2"   # optional: key token for export_all (default from /etc/machine-id)
///   [auth]                    # optional: user/password, token, nkey + nkey_seed_file, creds_file
///   user = "bridge"
///   password = "..."
///   [tls]                     # optional: ca, cert, key
///   ca = "/etc/shmsnap/ca.pem"
///   [[export]]
///   topic = "quotes"
///   key = "host1.quotes"      # optional
///   max_rate = 100            # optional, Hz
///   [[import]]
///   key = "host2.pose"
///   as = "pose"               # optional
///   [export_all]              # optional: every topic of the prefix, as "<host_id>.<topic>"
///   max_rate = 100            # optional, Hz per topic
///   scan_ms = 250             # optional: how often topics are listed
///   max_topics = 1024         # optional
///   [import_all]              # optional: every key of these hosts (default: all but host_id)
///   hosts = ["hostA", "hostB"]
///   max_keys = 1024           # optional
///
/// Throws shmsnap::Error (invalid_argument) naming the file, line and key on any
/// unknown key, wrong type or syntax error.
[[nodiscard]] BridgeConfig load_config_file(const std::string& path);

}  // namespace shmsnap::bridge
