// shmsnap list / dump / clean, and the small formatting helpers the admin
// commands share.
#include <grp.h>
#include <pwd.h>

#include <ctime>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "admin_commands.hpp"
#include "opened_topic.hpp"
#include "shmsnap/admin.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/names.hpp"
#include "shmsnap/printable.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/schema_json.hpp"
#include "shmsnap/subscriber.hpp"

namespace shmsnap::app {
namespace {

using Json = nlohmann::ordered_json;

// How long list waits for each socket's publisher to answer: one that is stopped
// or hung must not hold the listing of the others for long.
constexpr std::chrono::milliseconds socket_list_attach_timeout{500};

// The bound subscribers use by default (SubscriberOptions::stall_timeout).
bool heartbeat_stalled(const std::optional<std::int64_t>& age_ns) {
  return !age_ns || *age_ns > std::chrono::nanoseconds(SubscriberOptions{}.stall_timeout).count();
}

// A topic a bridge importer republishes from another host (RegionReader::origin_id).
std::string imported_text(std::uint64_t origin_id) {
  return fmt::format("imported by a bridge (origin id {:#018x})", origin_id);
}

// The region's part of a list entry: schema, publisher, sequence, counters and the
// subscriber table, without the row `own_id` (socket mode: this reader's own
// registration, which only exists because it looks).
void describe_region(const RegionReader& reader, const std::string& own_id, Json& entry) {
  const auto& header = reader.header();
  entry["valid"] = true;
  entry["schema"] = std::string(reader.schema_name());
  entry["schema_version"] = header.schema_version;
  entry["publisher_pid"] = reader.publisher_pid();
  entry.update(publisher_status_json(reader));
  entry["epoch"] = reader.epoch();
  entry["origin_id"] = reader.origin_id();
  entry["seq"] = reader.latest_seq();
  SnapshotMeta meta;
  std::optional<std::vector<std::byte>> newest;
  try {
    newest = reader.read_newest(meta);
  } catch (const Error& error) {
    entry["problem"] = error.what();
  }
  entry["last_publish_age_ns"] = newest ? Json(monotonic_ns() - meta.publish_ts_ns) : Json(nullptr);
  entry["payload_size"] = reader.payload_size();
  entry["slots"] = header.slot_count;
  entry["published"] = header.published_count.load(std::memory_order_relaxed);
  entry["coalesced"] = header.coalesced_count.load(std::memory_order_relaxed);
  entry["reclaimed"] = header.reclaimed_count.load(std::memory_order_relaxed);
  Json subscribers = Json::array();
  for (const SubscriberRow& row : reader.subscribers()) {
    if (!own_id.empty() && row.id == own_id) {
      continue;
    }
    subscribers.push_back(Json{{"id", row.id},
                               {"pid", row.pid},
                               {"alive", row.alive},
                               {"notified", row.notified},
                               {"coalesced", row.coalesced},
                               {"attached", local_time_text(row.attached_realtime_ns)}});
  }
  entry["subscribers"] = std::move(subscribers);
}

// One list entry. In socket mode a socket whose publisher does not answer (it was
// killed and left its socket) is listed with publisher_alive false.
Json describe_topic(const TopicCommand& command, const std::string& topic) {
  const bool socket_mode = !command.socket_dir.empty();
  Json entry{{"topic", topic}, {socket_mode ? "socket" : "region", topic_location(command, topic)}};
  std::optional<OpenedTopic> opened;
  try {
    opened.emplace(command, topic, socket_list_attach_timeout);
  } catch (const Error& error) {
    if (error.code() == Errc::invalid_argument) {
      throw;  // the command's own arguments (a socket path too long): no row can be listed
    }
    entry["valid"] = false;
    if (socket_mode && error.code() == Errc::not_found) {
      entry["publisher_alive"] = false;
    }
    entry["problem"] = error.what();
    return entry;
  }
  describe_region(opened->reader(), opened->own_subscriber_id(), entry);
  return entry;
}

std::string age_text(const Json& age_ns) {
  if (age_ns.is_null()) {
    return "never";
  }
  const double seconds = static_cast<double>(age_ns.get<std::int64_t>()) / 1e9;
  return seconds < 1.0 ? fmt::format("{:.1f} ms ago", seconds * 1e3) : fmt::format("{:.1f} s ago", seconds);
}

}  // namespace

void flatten(const Json& value, const std::string& path, FieldLines& lines) {
  const auto all_scalars = [](const Json& array) {
    for (const Json& element : array) {
      if (element.is_structured()) {
        return false;
      }
    }
    return true;
  };
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      // Field names come from the region's descriptor: outside input, escaped.
      const std::string name = printable(key);
      flatten(member, path.empty() ? name : path + "." + name, lines);
    }
  } else if (value.is_array() && !all_scalars(value)) {
    for (std::size_t index = 0; index < value.size(); ++index) {
      flatten(value[index], path + "[" + std::to_string(index) + "]", lines);
    }
  } else {
    lines.emplace_back(path, value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  }
}

const Json* field_note(const Json& notes, const std::string& path) {
  const auto found = notes.find(SnapshotCodec::field_note_path(path));
  return found == notes.end() ? nullptr : &*found;
}

std::string value_with_unit(const Json* note, const std::string& value) {
  if (note == nullptr || !note->contains("unit")) {
    return value;
  }
  return value + " " + note->at("unit").get<std::string>();
}

std::optional<std::string> stale_reason(const RegionReader& reader) {
  if (reader.closed()) {
    return fmt::format("the publisher (pid {}) closed the topic", reader.publisher_pid());
  }
  if (!reader.publisher_alive()) {
    return fmt::format("the publisher (pid {}) is gone; the value is its last one", reader.publisher_pid());
  }
  const std::optional<std::int64_t> age_ns = reader.heartbeat_age_ns();
  if (heartbeat_stalled(age_ns)) {
    const double timeout_s =
        std::chrono::duration<double>(std::chrono::nanoseconds(SubscriberOptions{}.stall_timeout)).count();
    return age_ns
               ? fmt::format("no heartbeat from the publisher (pid {}) for {:.1f} s (stall timeout {:.1f} s)",
                             reader.publisher_pid(), static_cast<double>(*age_ns) / 1e9, timeout_s)
               : fmt::format("the publisher's (pid {}) heartbeat is not a time of this host", reader.publisher_pid());
  }
  if (reader.source_lost()) {
    return fmt::format("the publisher (pid {}) runs but lost its source (a bridged topic whose origin is gone)",
                       reader.publisher_pid());
  }
  return std::nullopt;
}

Json publisher_status_json(const RegionReader& reader) {
  // null when the heartbeat is not a time of this host (ahead of now, or not
  // positive): such a publisher is not known to beat, so it counts as stalled.
  const std::optional<std::int64_t> heartbeat_age_ns = reader.heartbeat_age_ns();
  const std::optional<std::string> reason = stale_reason(reader);
  return Json{{"publisher_alive", reader.publisher_alive()},
              {"closed", reader.closed()},
              {"source_lost", reader.source_lost()},
              {"heartbeat_age_ns", heartbeat_age_ns ? Json(*heartbeat_age_ns) : Json(nullptr)},
              {"stalled", heartbeat_stalled(heartbeat_age_ns)},
              {"state", publisher_state(reader)},
              {"stale", reason.has_value()},
              {"stale_reason", reason ? Json(*reason) : Json(nullptr)}};
}

std::string publisher_state(const RegionReader& reader) {
  return reader.closed()                                ? "closed"
         : !reader.publisher_alive()                    ? "dead"
         : heartbeat_stalled(reader.heartbeat_age_ns()) ? "stalled"
         : reader.source_lost()                         ? "source lost"
                                                        : "alive";
}

std::string permission_text(unsigned mode) {
  std::string text = "rwxrwxrwx";
  for (unsigned bit = 0; bit < 9; ++bit) {
    if ((mode & (1U << (8 - bit))) == 0) {
      text[bit] = '-';
    }
  }
  return text;
}

std::string user_name(unsigned uid) {
  const passwd* entry = ::getpwuid(uid);
  return entry != nullptr ? entry->pw_name : std::to_string(uid);
}

std::string local_time_text(std::int64_t realtime_ns) {
  const std::time_t seconds = static_cast<std::time_t>(realtime_ns / 1'000'000'000);
  std::tm local{};
  ::localtime_r(&seconds, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

std::string state_text(const Json& status) {
  const std::string state = status["state"].get<std::string>();
  return status["stale"].get<bool>() ? state + " (stale: " + status["stale_reason"].get<std::string>() + ")" : state;
}

int list_topics(const TopicCommand& command, Io& io) {
  const std::string prefix = resolve_prefix(command.prefix);
  (void)trusted_uids(command.trust_owners);  // an unknown user is the command's error, not a row's
  const bool socket_mode = !command.socket_dir.empty();
  Json topics = Json::array();
  for (const std::string& topic :
       socket_mode ? admin::find_socket_topics(command.socket_dir) : admin::find_topics(prefix)) {
    topics.push_back(describe_topic(command, topic));
  }
  if (command.json) {
    io.out << topics.dump(2, ' ', false, Json::error_handler_t::replace) << std::endl;
    return exit_ok;
  }
  if (topics.empty()) {
    if (socket_mode) {
      io.out << "no topics in socket directory " << command.socket_dir << " (nothing matches "
             << topic_location(command, "*") << ")" << std::endl;
    } else {
      io.out << "no topics under prefix '" << prefix << "' (nothing matches /dev/shm/" << prefix << ":*)" << std::endl;
    }
    return exit_ok;
  }
  io.out << fmt::format("{:<20} {:<24} {:<16} {:>5} {:>10}  {:<14} {}", "TOPIC", "SCHEMA", "PUBLISHER", "EPOCH", "SEQ",
                        "LAST PUBLISH", "SUBSCRIBERS")
         << "\n";
  for (const Json& topic : topics) {
    if (!topic["valid"].get<bool>()) {
      if (topic.contains("publisher_alive")) {
        io.out << fmt::format("{:<20} no live publisher ({})", topic["topic"].get<std::string>(),
                              topic["socket"].get<std::string>())
               << "\n";
        continue;
      }
      io.out << fmt::format("{:<20} {}: {}", topic["topic"].get<std::string>(), socket_mode ? "unreachable" : "invalid",
                            topic["problem"].get<std::string>())
             << "\n";
      continue;
    }
    const std::string publisher =
        fmt::format("{} {}", topic["publisher_pid"].get<int>(), topic["state"].get<std::string>());
    io.out << fmt::format("{:<20} {:<24} {:<16} {:>5} {:>10}  {:<14} {}", topic["topic"].get<std::string>(),
                          fmt::format("{} v{}", topic["schema"].get<std::string>(), topic["schema_version"].get<int>()),
                          publisher, topic["epoch"].get<std::uint64_t>(), topic["seq"].get<std::uint64_t>(),
                          age_text(topic["last_publish_age_ns"]), topic["subscribers"].size())
           << "\n";
    if (const auto origin_id = topic["origin_id"].get<std::uint64_t>(); origin_id != 0) {
      io.out << "    " << imported_text(origin_id) << "\n";
    }
    for (const Json& row : topic["subscribers"]) {
      io.out << fmt::format("    subscriber {:<16} pid {:<8} {:<6} notified {:<10} coalesced {:<8} since {}",
                            row["id"].get<std::string>(), row["pid"].get<int>(),
                            row["alive"].get<bool>() ? "alive" : "dead", row["notified"].get<std::uint64_t>(),
                            row["coalesced"].get<std::uint64_t>(), row["attached"].get<std::string>())
             << "\n";
    }
  }
  io.out.flush();
  return exit_ok;
}

int dump_topic(const TopicCommand& command, Io& io) {
  const OpenedTopic opened(command, command.topic, SubscriberOptions{}.attach_timeout);
  const RegionReader& reader = opened.reader();
  SnapshotMeta meta;
  std::optional<std::vector<std::byte>> newest = reader.read_newest(meta);
  Json data = nullptr;
  // What the numbers mean, by field path: units and descriptions from the descriptor.
  Json notes = Json::object();
  if (newest) {
    newest->resize(reader.payload_size());  // the schema's layout; past the used part, zeros
    const SnapshotCodec codec(reader.descriptor());
    data = codec.decode_ordered(*newest);
    notes = codec.field_notes();
  }
  // As list says it: a live process whose heartbeat stopped, or whose source is
  // gone (a bridged topic), serves a stale state.
  const Json status = publisher_status_json(reader);
  if (command.json) {
    Json dump{{"topic", command.topic},
              {"schema", std::string(reader.schema_name())},
              {"schema_version", reader.header().schema_version},
              {"epoch", reader.epoch()},
              {"origin_id", reader.origin_id()},
              {"seq", newest ? meta.seq : 0},
              {"publisher_pid", reader.publisher_pid()}};
    dump.update(status);
    dump["age_ns"] = newest ? Json(monotonic_ns() - meta.publish_ts_ns) : Json(nullptr);
    dump["data"] = std::move(data);
    dump["fields"] = notes;
    io.out << dump.dump(2, ' ', false, Json::error_handler_t::replace) << std::endl;
    return exit_ok;
  }
  io.out << fmt::format("topic {} ({} v{}), publisher pid {} {}, epoch {}", command.topic, reader.schema_name(),
                        reader.header().schema_version, reader.publisher_pid(), state_text(status), reader.epoch());
  if (reader.origin_id() != 0) {
    io.out << ", " << imported_text(reader.origin_id());
  }
  if (!newest) {
    io.out << ": nothing published yet" << std::endl;
    return exit_ok;
  }
  io.out << fmt::format(", seq {}, published {}", meta.seq, age_text(Json(monotonic_ns() - meta.publish_ts_ns)))
         << "\n";
  FieldLines lines;
  flatten(data, "", lines);
  std::set<const Json*> described;  // the elements of an array say their field's description once
  for (const auto& [path, value] : lines) {
    const Json* note = field_note(notes, path);
    io.out << "  " << path << " = " << value_with_unit(note, value);
    if (note != nullptr && note->contains("description") && described.insert(note).second) {
      io.out << "  # " << note->at("description").get<std::string>();
    }
    io.out << "\n";
  }
  io.out.flush();
  return exit_ok;
}

int clean_resources(const TopicCommand& command, Io& io) {
  const std::string prefix = resolve_prefix(command.prefix);
  const admin::CleanReport report = admin::clean(prefix, command.dry_run, command.force);
  for (const admin::CleanEntry& entry : report.removed) {
    io.out << (command.dry_run ? "would remove " : "removed ") << entry.path << ": " << entry.reason << "\n";
  }
  for (const admin::CleanEntry& entry : report.kept) {
    io.out << "kept " << entry.path << ": " << entry.reason << "\n";
  }
  io.out << fmt::format("{} {}, {} kept (prefix '{}')", report.removed.size(),
                        command.dry_run ? "to remove" : "removed", report.kept.size(), prefix)
         << std::endl;
  for (const std::string& error : report.errors) {
    io.err << "shmsnap clean: " << error << "\n";
  }
  io.err.flush();
  return report.errors.empty() ? exit_ok : exit_failure;
}

}  // namespace shmsnap::app
