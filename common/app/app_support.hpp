// What every shmsnap command-line program shares: exit codes, the SIGINT/SIGTERM
// stop flag, the stderr logger, CLI11 error handling and option parsers. Used by
// shmsnap-publisher, shmsnap-subscriber and shmsnap; each program's logic takes an
// Io so tests can run it in-process with string streams and their own stop flag.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "shmsnap/error.hpp"

namespace shmsnap::app {

/// Exit codes of every shmsnap program (documented in each --help footer).
enum ExitCode : int {
  exit_ok = 0,           ///< done
  exit_failure = 1,      ///< an OS or library error (message on stderr)
  exit_usage = 2,        ///< bad flag, value or name
  exit_busy = 3,         ///< the topic / id / name is held by a live process
  exit_timed_out = 4,    ///< a bounded wait expired
  exit_would_block = 5,  ///< --nonblock and the queue was full or empty
};

/// The footer every --help ends with.
inline constexpr std::string_view exit_code_help =
    "Exit codes: 0 ok, 1 error, 2 bad usage (flag, value or name), 3 busy (held by a live process), "
    "4 timed out, 5 would block (--nonblock).";

/// Where a program writes and what tells it to stop.
struct Io {
  std::ostream& out;              ///< results (stdout)
  std::ostream& err;              ///< diagnostics, logs and summaries (stderr)
  const std::atomic<bool>& stop;  ///< set by SIGINT/SIGTERM (or a test)
};

/// The exit code for a library error: invalid_argument -> usage, busy -> busy,
/// timed_out -> timed out, anything else -> failure.
[[nodiscard]] int exit_code_for(const Error& error) noexcept;

/// The process-wide stop flag and the handlers that set it. Handlers are installed
/// without SA_RESTART so blocking calls return EINTR and the loop sees the flag.
[[nodiscard]] const std::atomic<bool>& install_stop_signals() noexcept;

/// A logger named `name` writing "[time] [name] [level] message" lines to `err`.
/// `level` is an spdlog level name; it also becomes the library's level (through
/// SHMSNAP_LOG_LEVEL, read when the library logs first). Throws CLI::ValidationError
/// for an unknown level.
[[nodiscard]] std::shared_ptr<spdlog::logger> make_logger(const std::string& name, std::ostream& err,
                                                          const std::string& level);

/// Prints a CLI11 parse outcome the CLI11 way (help on out, errors on err) and
/// maps it to exit_ok (help) or exit_usage.
[[nodiscard]] int parse_exit(const CLI::App& app, const CLI::ParseError& error, Io& io);

/// Parses `args` (args[0] is the program name) into `app`.
void parse(CLI::App& app, const std::vector<std::string>& args);

/// The frame of every program's run function: parses `args` into `app`, where a
/// parse outcome becomes its exit code (help, usage), then runs `body`, where a
/// library error becomes "<program>: <message>" on stderr and its exit code.
template <class Body>
int parse_and_run(CLI::App& app, const std::vector<std::string>& args, Io& io, Body&& body) {
  try {
    parse(app, args);
  } catch (const CLI::ParseError& error) {
    return parse_exit(app, error, io);
  }
  try {
    return body();
  } catch (const Error& error) {
    io.err << app.get_name() << ": " << error.what() << std::endl;
    return exit_code_for(error);
  }
}

/// Parses an octal permission mode such as "0640"; throws CLI::ValidationError.
[[nodiscard]] mode_t parse_mode(const std::string& text);

/// --log-level's default: $SHMSNAP_LOG_LEVEL when set, else "info".
[[nodiscard]] std::string default_log_level();

/// CLI11 check: the value is one of the spdlog level names.
[[nodiscard]] CLI::Validator log_level_validator();

/// Adds --prefix to `command`: an explicit empty value is refused (it would
/// silently mean the default namespace).
CLI::Option* add_prefix_option(CLI::App& command, std::string& prefix);

/// Adds --trust-owner USER (repeatable) to `command`: users besides the caller and
/// root whose regions it reads. Resolve the names with trusted_uids().
CLI::Option* add_trust_owner_option(CLI::App& command, std::vector<std::string>& users);

/// The uids of `users` (names or numbers). Throws Error{invalid_argument} for an
/// unknown user, naming `option`.
[[nodiscard]] std::vector<uid_t> user_ids(const std::vector<std::string>& users, std::string_view option);
/// user_ids() for --trust-owner.
[[nodiscard]] std::vector<uid_t> trusted_uids(const std::vector<std::string>& users);
/// The gids of `groups` (names or numbers); as user_ids().
[[nodiscard]] std::vector<gid_t> group_ids(const std::vector<std::string>& groups, std::string_view option);

/// Adds --socket-dir DIR (default $SHMSNAP_SOCKET_DIR; must exist): socket mode.
CLI::Option* add_socket_dir_option(CLI::App& command, std::string& directory);

/// Collects argv into strings, for main().
[[nodiscard]] std::vector<std::string> arguments(int argc, char** argv);

}  // namespace shmsnap::app
