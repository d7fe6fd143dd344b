// The `shmsnap serve` subcommand: its flags and its action, registered into the
// admin CLI by one call so the CLI's own file stays untouched otherwise.
// Called on the CLI's thread while it builds its parser.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "app_support.hpp"

namespace shmsnap::serve {

/// Adds `serve` to `app`; when it is chosen, `action` is set to run the server
/// (printing "serving http=HOST:PORT [foxglove=HOST:PORT]" on io.out once ready).
void register_serve_command(CLI::App& app, std::function<int()>& action, app::Io& io);

}  // namespace shmsnap::serve
