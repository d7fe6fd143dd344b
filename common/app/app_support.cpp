#include "app_support.hpp"

#include <grp.h>
#include <pwd.h>
#include <signal.h>

#include <array>
#include <cstdlib>

#include <spdlog/sinks/ostream_sink.h>

namespace shmsnap::app {
namespace {

std::atomic<bool> stop_flag{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

void on_stop_signal(int) noexcept {
  stop_flag.store(true, std::memory_order_relaxed);
}

constexpr const char* level_names[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};

}  // namespace

int exit_code_for(const Error& error) noexcept {
  switch (error.code()) {
    case Errc::invalid_argument:
      return exit_usage;
    case Errc::busy:
      return exit_busy;
    case Errc::timed_out:
      return exit_timed_out;
    default:
      return exit_failure;
  }
}

const std::atomic<bool>& install_stop_signals() noexcept {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocked receive returns EINTR and sees the flag
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A closed stdout (e.g. `| head`) must end the program through an error, not a signal.
  signal(SIGPIPE, SIG_IGN);
  return stop_flag;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, std::ostream& err, const std::string& level) {
  const spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    throw CLI::ValidationError("--log-level", "unknown level '" + level + "'");
  }
  // The library's logger reads its level once, from the environment.
  ::setenv("SHMSNAP_LOG_LEVEL", level.c_str(), 1);
  if (auto library = spdlog::get("shmsnap")) {
    library->set_level(parsed);
  }
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(err, true);
  auto logger = std::make_shared<spdlog::logger>(name, std::move(sink));
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%n] [%l] %v");  // the library logger's look
  logger->set_level(parsed);
  return logger;
}

int parse_exit(const CLI::App& app, const CLI::ParseError& error, Io& io) {
  const int code = app.exit(error, io.out, io.err);
  if (code == 0) {
    return exit_ok;
  }
  return exit_usage;
}

void parse(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<const char*> raw;
  raw.reserve(args.size());
  for (const std::string& argument : args) {
    raw.push_back(argument.c_str());
  }
  app.parse(static_cast<int>(raw.size()), raw.data());
}

mode_t parse_mode(const std::string& text) {
  std::size_t used = 0;
  unsigned long value = 0;
  try {
    value = std::stoul(text, &used, 8);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || value > 07777) {
    throw CLI::ValidationError("--mode", "'" + text + "' is not an octal permission mode such as 0640");
  }
  return static_cast<mode_t>(value);
}

CLI::Validator log_level_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        for (const char* name : level_names) {
          if (value == name) {
            return {};
          }
        }
        return "unknown log level '" + value + "' (trace, debug, info, warn, error, critical, off)";
      },
      "LEVEL", "log level");
}

std::string default_log_level() {
  const char* from_env = std::getenv("SHMSNAP_LOG_LEVEL");
  return from_env != nullptr && *from_env != '\0' ? from_env : "info";
}

std::vector<std::string> arguments(int argc, char** argv) {
  return std::vector<std::string>(argv, argv + argc);
}

}  // namespace shmsnap::app

namespace shmsnap::app {

CLI::Option* add_prefix_option(CLI::App& command, std::string& prefix) {
  return command.add_option("--prefix", prefix, "resource namespace (default $SHMSNAP_PREFIX or 'shmsnap')")
      ->check(CLI::Validator(
          [](const std::string& value) {
            return value.empty() ? std::string(
                                       "an empty prefix would silently mean the default namespace: give a "
                                       "name, or leave --prefix out")
                                 : std::string();
          },
          "NAME"));
}

CLI::Option* add_trust_owner_option(CLI::App& command, std::vector<std::string>& users) {
  return command.add_option("--trust-owner", users,
                            "also follow regions owned by USER (name or uid); by default only your own and "
                            "root's are trusted, since whoever creates a name in /dev/shm first owns it");
}

std::vector<uid_t> user_ids(const std::vector<std::string>& users, std::string_view option) {
  std::vector<uid_t> uids;
  for (const std::string& user : users) {
    std::array<char, 1024> buffer{};
    passwd entry{};
    passwd* found = nullptr;
    if (getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
      uids.push_back(found->pw_uid);
      continue;
    }
    char* end = nullptr;
    const unsigned long number = std::strtoul(user.c_str(), &end, 10);
    if (!user.empty() && end != nullptr && *end == '\0') {
      uids.push_back(static_cast<uid_t>(number));
      continue;
    }
    throw Error(Errc::invalid_argument, std::string(option) + " '" + user +
                                            "': no such user; give a user name from /etc/passwd or a numeric uid");
  }
  return uids;
}

std::vector<uid_t> trusted_uids(const std::vector<std::string>& users) {
  return user_ids(users, "--trust-owner");
}

std::vector<gid_t> group_ids(const std::vector<std::string>& groups, std::string_view option) {
  std::vector<gid_t> gids;
  for (const std::string& group : groups) {
    std::array<char, 4096> buffer{};
    struct group entry {};
    struct group* found = nullptr;
    if (getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
      gids.push_back(found->gr_gid);
      continue;
    }
    char* end = nullptr;
    const unsigned long number = std::strtoul(group.c_str(), &end, 10);
    if (!group.empty() && end != nullptr && *end == '\0') {
      gids.push_back(static_cast<gid_t>(number));
      continue;
    }
    throw Error(Errc::invalid_argument, std::string(option) + " '" + group +
                                            "': no such group; give a group name from /etc/group or a numeric gid");
  }
  return gids;
}

CLI::Option* add_socket_dir_option(CLI::App& command, std::string& directory) {
  return command
      .add_option("--socket-dir", directory,
                  "socket mode: reach topics through DIR/<topic>.sock (a directory shared between containers) "
                  "instead of /dev/shm and /dev/mqueue; default $SHMSNAP_SOCKET_DIR, unset: named mode")
      ->envname("SHMSNAP_SOCKET_DIR")
      ->check(CLI::ExistingDirectory);
}

}  // namespace shmsnap::app
