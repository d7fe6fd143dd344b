// The `record`, `replay` and `info` subcommands of the `shmsnap` admin CLI. The
// admin CLI calls add_recording_commands() once while it builds its parser; the
// chosen command then runs on the caller's thread through `action`.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "app_support.hpp"

namespace shmsnap::recording {

/// Adds the subcommands to `app`; parsing one sets `action` to run it with `io`.
void add_recording_commands(CLI::App& app, std::function<int()>& action, app::Io& io);

}  // namespace shmsnap::recording
