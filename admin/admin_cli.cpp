#include "admin_cli.hpp"

#include <functional>

#include "admin_commands.hpp"
#include "recording_cli.hpp"
#include "serve_command.hpp"
#include "shmsnap/admin.hpp"

namespace shmsnap::app {
namespace {

constexpr const char* queue_name_help =
    "queue name: '/' then up to 254 characters without '/', e.g. /jobs (mq_overview(7))";

constexpr const char* topic_help = "topic name; one that starts with '-' goes after '--' (dump -- -x)";

void add_prefix(CLI::App& command, std::string& prefix) {
  add_prefix_option(command, prefix);
}

// Socket mode has no name to map: these commands attach through the socket as a
// subscriber (that receives no notifications) for as long as they read.
void add_socket_dir(CLI::App& command, std::string& directory) {
  add_socket_dir_option(command, directory)
      ->description(
          "socket mode: read topics through DIR/<topic>.sock (a directory shared between containers), attached "
          "as a subscriber while reading, instead of /dev/shm; default $SHMSNAP_SOCKET_DIR, unset: named mode");
}

CLI::Validator octal_mode() {
  return CLI::Validator(
      [](std::string& text) {
        (void)parse_mode(text);
        return std::string();
      },
      "OCTAL");
}

// CLI11 reports an unknown command word only as "A subcommand is required";
// name the word and the choices instead.
std::string unknown_command(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* level = &app;
  std::string path = app.get_name();
  for (std::size_t index = 1; index < args.size(); ++index) {
    const std::string& word = args[index];
    const auto subcommands = level->get_subcommands([](const CLI::App*) { return true; });
    if (subcommands.empty() || word.empty() || word.front() == '-') {
      return {};
    }
    const CLI::App* next = nullptr;
    std::string choices;
    for (const CLI::App* subcommand : subcommands) {
      choices += (choices.empty() ? "" : ", ") + subcommand->get_name();
      if (subcommand->get_name() == word) {
        next = subcommand;
      }
    }
    if (next == nullptr) {
      return "unknown command '" + path + " " + word + "'; the commands are: " + choices;
    }
    level = next;
    path += " " + word;
  }
  return {};
}

// A topic may start with '-' ([A-Za-z0-9_.-]), which CLI11 takes for an option:
// name the way out instead of "argument was not expected".
std::string dash_topic_hint(const CLI::App& app, const std::vector<std::string>& args) {
  if (args.size() < 3) {
    return {};
  }
  const CLI::App* command = nullptr;
  for (const char* name : {"dump", "watch"}) {
    if (args[1] == name) {
      command = app.get_subcommand(name);
    }
  }
  if (command == nullptr) {
    return {};
  }
  for (std::size_t index = 2; index < args.size(); ++index) {
    const std::string& word = args[index];
    if (word == "--") {
      return {};
    }
    if (word.size() < 2 || word.front() != '-') {
      continue;
    }
    const std::string option = word.substr(0, word.find('='));
    if (command->get_option_no_throw(option) == nullptr) {
      return "shmsnap " + args[1] + ": '" + word + "' is not an option; a topic whose name starts with '-' goes " +
             "after '--': shmsnap " + args[1] + " [options] -- " + word;
    }
  }
  return {};
}

}  // namespace

int run_admin(const std::vector<std::string>& args, Io& io) {
  CLI::App app;
  app.name("shmsnap");
  app.description(
      "Inspects shmsnap topics as a reader (in named mode it never registers as a subscriber; in socket mode "
      "it must), removes what dead processes left behind, and works with POSIX message queues and shared memory "
      "directly.");
  app.require_subcommand(1);
  app.footer(std::string(exit_code_help));

  TopicCommand topic;
  QueueCommand queue;
  ShmCommand shm;
  std::function<int()> action;

  auto* list =
      app.add_subcommand("list",
                         "every topic of the prefix (with --socket-dir: every DIR/*.sock, and whether a publisher "
                         "answers): schema, publisher pid and liveness, epoch, sequence, last publish age, "
                         "subscribers with their pids and counters");
  add_prefix(*list, topic.prefix);
  add_trust_owner_option(*list, topic.trust_owners);
  add_socket_dir(*list, topic.socket_dir);
  list->add_flag("--json", topic.json, "one JSON array instead of a table");
  list->callback([&] { action = [&] { return list_topics(topic, io); }; });

  auto* dump = app.add_subcommand("dump", "the current snapshot of TOPIC, decoded through its embedded schema");
  dump->add_option("topic", topic.topic, topic_help)->required();
  add_prefix(*dump, topic.prefix);
  add_trust_owner_option(*dump, topic.trust_owners);
  add_socket_dir(*dump, topic.socket_dir);
  dump->add_flag("--json", topic.json,
                 "one JSON object: topic, schema, epoch, seq, the publisher's state as list gives it (stale, "
                 "stale_reason, source_lost, ...), data");
  dump->callback([&] { action = [&] { return dump_topic(topic, io); }; });

  auto* watch = app.add_subcommand(
      "watch",
      "live view of TOPIC, redrawn on each update with rate, latency and changed fields highlighted; "
      "exits on SIGINT or after --count updates");
  watch->add_option("topic", topic.topic, topic_help)->required();
  add_prefix(*watch, topic.prefix);
  add_trust_owner_option(*watch, topic.trust_owners);
  add_socket_dir(*watch, topic.socket_dir);
  watch->add_option("--count", topic.count, "exit 0 after N updates")->check(CLI::PositiveNumber);
  watch->add_option("--timeout", topic.timeout, "exit 4 when the topic does not exist after S seconds")
      ->check(CLI::PositiveNumber);
  watch->add_flag("!--no-color", topic.color, "no ANSI colours and no screen clearing");
  watch->add_flag("--json", topic.json,
                  "one JSON object per line and update: the fields of dump --json with rate_hz, latency_ns, updates");
  watch->callback([&] { action = [&] { return watch_topic(topic, io); }; });

  auto* clean = app.add_subcommand(
      "clean", "remove the regions and queues of the prefix whose owners are dead; a live one is never touched");
  add_prefix(*clean, topic.prefix);
  clean->add_flag("--dry-run", topic.dry_run, "only say what would be removed");
  clean->add_flag("--force", topic.force,
                  "also remove what no shmsnap process can use under the prefix: FIFOs, links, directories "
                  "and other non-files planted in /dev/shm");
  clean->callback([&] { action = [&] { return clean_resources(topic, io); }; });

  auto* mq = app.add_subcommand("mq", "POSIX message queues: create, send, recv, stat, unlink, ls");
  mq->require_subcommand(1);
  auto* mq_create_command = mq->add_subcommand("create", "create a queue (fails if it exists)");
  mq_create_command->add_option("name", queue.name, queue_name_help)->required();
  mq_create_command->add_option("--maxmsg", queue.max_messages, "most messages it holds (<= fs.mqueue.msg_max)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  mq_create_command->add_option("--msgsize", queue.message_size, "largest message in bytes (<= fs.mqueue.msgsize_max)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  mq_create_command->add_option("--mode", queue.mode, "octal permission mode")
      ->capture_default_str()
      ->check(octal_mode());
  mq_create_command->callback([&] { action = [&] { return mq_create(queue, io); }; });

  auto* mq_send_command = mq->add_subcommand("send", "send TEXT to a queue; blocks while it is full unless --nonblock");
  mq_send_command->add_option("name", queue.name, queue_name_help)->required();
  mq_send_command->add_option("text", queue.text, "message text")->required();
  mq_send_command->add_option("--prio", queue.priority, "priority, 0 (lowest) .. 32767; higher is received first")
      ->capture_default_str()
      ->check(CLI::Range(0, 32767));
  mq_send_command->add_flag("--nonblock", queue.nonblock, "fail with exit 5 (EAGAIN) instead of waiting when full");
  mq_send_command->callback([&] { action = [&] { return mq_send(queue, io); }; });

  auto* mq_recv_command = mq->add_subcommand(
      "recv",
      "receive from one or more queues (select()), printing each message with its queue and priority; "
      "per queue highest priority first, oldest first within a priority");
  mq_recv_command->add_option("names", queue.names, "queue names, each '/' + name")->required();
  mq_recv_command->add_option("--count", queue.count, "exit 0 after N messages")->check(CLI::PositiveNumber);
  mq_recv_command->add_flag("--nonblock", queue.nonblock, "take what is pending and exit; exit 5 when nothing is");
  mq_recv_command->add_option("--timeout", queue.timeout, "exit 4 when no message arrives for S seconds")
      ->check(CLI::PositiveNumber);
  mq_recv_command->callback([&] { action = [&] { return mq_recv(queue, io); }; });

  auto* mq_stat_command = mq->add_subcommand("stat", "attributes, occupancy, owner and the processes holding it open");
  mq_stat_command->add_option("name", queue.name, queue_name_help)->required();
  mq_stat_command->callback([&] { action = [&] { return mq_stat(queue, io); }; });

  auto* mq_unlink_command = mq->add_subcommand("unlink", "remove a queue's name (holders keep their descriptors)");
  mq_unlink_command->add_option("name", queue.name, queue_name_help)->required();
  mq_unlink_command->callback([&] { action = [&] { return mq_unlink(queue, io); }; });

  auto* mq_ls_command = mq->add_subcommand("ls", "list the queues in /dev/mqueue");
  mq_ls_command->add_option("--starts-with", queue.starts_with, "only names starting with this (no '/')");
  mq_ls_command->callback([&] { action = [&] { return mq_ls(queue, io); }; });

  auto* shm_command = app.add_subcommand("shm", "POSIX shared memory objects: ls, stat, rm");
  shm_command->require_subcommand(1);
  auto* shm_ls_command = shm_command->add_subcommand("ls", "list /dev/shm");
  shm_ls_command->add_option("--starts-with", shm.starts_with, "only names starting with this (no '/')");
  shm_ls_command->callback([&] { action = [&] { return shm_ls(shm, io); }; });
  auto* shm_stat_command = shm_command->add_subcommand("stat", "size, mode, owner; a shmsnap region's header too");
  shm_stat_command->add_option("name", shm.name, "object name, '/' + name")->required();
  shm_stat_command->callback([&] { action = [&] { return shm_stat(shm, io); }; });
  auto* shm_rm_command = shm_command->add_subcommand("rm", "shm_unlink an object; refuses a live publisher's region");
  shm_rm_command->add_option("name", shm.name, "object name, '/' + name")->required();
  shm_rm_command->add_flag("--force", shm.force, "remove even a region whose publisher is alive");
  shm_rm_command->callback([&] { action = [&] { return shm_rm(shm, io); }; });

  recording::add_recording_commands(app, action, io);
  serve::register_serve_command(app, action, io);

  if (const std::string unknown = unknown_command(app, args); !unknown.empty()) {
    io.err << "shmsnap: " << unknown << "\nRun with --help for more information." << std::endl;
    return exit_usage;
  }
  if (const std::string hint = dash_topic_hint(app, args); !hint.empty()) {
    io.err << hint << "\nRun with --help for more information." << std::endl;
    return exit_usage;
  }
  return parse_and_run(app, args, io, [&] { return action ? action() : exit_usage; });
}

}  // namespace shmsnap::app
