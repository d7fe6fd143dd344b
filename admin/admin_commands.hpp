// The commands of the `shmsnap` admin CLI, one function each, grouped by file:
// admin_topics.cpp (list, dump, clean), admin_watch.cpp (watch), admin_queues.cpp
// (mq ...), admin_shm.cpp (shm ...). admin_cli.cpp parses and dispatches. Each
// returns an ExitCode and may throw shmsnap::Error (mapped by the caller).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "app_support.hpp"
#include "shmsnap/region.hpp"

namespace shmsnap::app {

/// Options of the topic commands (list, dump, watch, clean).
struct TopicCommand {
  std::string topic;
  std::string prefix;
  bool json = false;
  std::uint64_t count = 0;                ///< watch: exit after N updates
  double timeout = 0;                     ///< watch: give up waiting for the topic after S seconds
  bool dry_run = false;                   ///< clean
  bool force = false;                     ///< clean: also remove non-files planted under the prefix
  std::vector<std::string> trust_owners;  ///< list, dump, watch: users trusted besides the caller and root
  bool color = true;                      ///< watch: highlight changes when stdout is a terminal
  std::string socket_dir;                 ///< list, dump, watch: socket mode (DIR/<topic>.sock); "" = named mode
};

[[nodiscard]] int list_topics(const TopicCommand& command, Io& io);
[[nodiscard]] int dump_topic(const TopicCommand& command, Io& io);
[[nodiscard]] int watch_topic(const TopicCommand& command, Io& io);
[[nodiscard]] int clean_resources(const TopicCommand& command, Io& io);

/// Options of the mq commands.
struct QueueCommand {
  std::string name;                ///< the queue of create, send, stat, unlink
  std::vector<std::string> names;  ///< the queues of recv
  std::string text;
  long max_messages = 10;    ///< the kernel's default fs.mqueue.msg_default
  long message_size = 8192;  ///< the kernel's default fs.mqueue.msgsize_default
  std::string mode = "0600";
  unsigned priority = 0;
  bool nonblock = false;
  std::uint64_t count = 0;
  double timeout = 0;
  std::string starts_with;
};

[[nodiscard]] int mq_create(const QueueCommand& command, Io& io);
[[nodiscard]] int mq_send(const QueueCommand& command, Io& io);
[[nodiscard]] int mq_recv(const QueueCommand& command, Io& io);
[[nodiscard]] int mq_stat(const QueueCommand& command, Io& io);
[[nodiscard]] int mq_unlink(const QueueCommand& command, Io& io);
[[nodiscard]] int mq_ls(const QueueCommand& command, Io& io);

/// Options of the shm commands.
struct ShmCommand {
  std::string name;
  std::string starts_with;
  bool force = false;
};

[[nodiscard]] int shm_ls(const ShmCommand& command, Io& io);
[[nodiscard]] int shm_stat(const ShmCommand& command, Io& io);
[[nodiscard]] int shm_rm(const ShmCommand& command, Io& io);

/// (field path, value as JSON text) pairs, in layout order.
using FieldLines = std::vector<std::pair<std::string, std::string>>;
/// Flattens a decoded snapshot for display: one line per scalar, nested fields by
/// dotted path; an array of scalars stays one line (a book side, a matrix row).
void flatten(const nlohmann::ordered_json& value, const std::string& path, FieldLines& lines);

/// The note (SnapshotCodec::field_notes()) for a flattened field path ("legs[1].x"
/// finds "legs.x"), or null when the field has none.
[[nodiscard]] const nlohmann::ordered_json* field_note(const nlohmann::ordered_json& notes, const std::string& path);
/// `value` followed by the field's unit when it has one ("1.5 m"); the unit is
/// printable text (the descriptor parser refuses control characters).
[[nodiscard]] std::string value_with_unit(const nlohmann::ordered_json* note, const std::string& value);

/// The publisher's state as list, dump and watch say it: closed, dead, stalled (its
/// heartbeat stopped or is not a time of this host), source lost, or alive.
[[nodiscard]] std::string publisher_state(const RegionReader& reader);

/// Why the topic's state is stale (closed, publisher gone, heartbeat stopped, source
/// lost), or none while its publisher serves a live state.
[[nodiscard]] std::optional<std::string> stale_reason(const RegionReader& reader);
/// What list, dump and watch say of the publisher, as JSON: publisher_alive, closed,
/// source_lost, heartbeat_age_ns, stalled, state, stale and stale_reason (null when not stale).
[[nodiscard]] nlohmann::ordered_json publisher_status_json(const RegionReader& reader);
/// "alive", or "source lost (stale: REASON)": the state with its reason, from publisher_status_json().
[[nodiscard]] std::string state_text(const nlohmann::ordered_json& status);

/// "rw-r-----" for 0640.
[[nodiscard]] std::string permission_text(unsigned mode);
/// A user name for `uid`, or the number.
[[nodiscard]] std::string user_name(unsigned uid);
/// "2026-11-26 01:38:47" (local time) for a CLOCK_REALTIME instant.
[[nodiscard]] std::string local_time_text(std::int64_t realtime_ns);

}  // namespace shmsnap::app
