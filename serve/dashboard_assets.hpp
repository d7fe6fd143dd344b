// The dashboard's files (serve/web/*), embedded into the binary at build time by
// embed_assets.cmake so the page needs nothing from outside. Read-only data; any thread.
#pragma once

#include <span>
#include <string_view>

namespace shmsnap::serve {

/// One embedded file.
struct Asset {
  std::string_view path;          ///< URL path, e.g. "/app.js" ("/" for index.html)
  std::string_view content_type;  ///< e.g. "text/javascript; charset=utf-8"
  std::string_view body;
};

/// Every embedded file.
[[nodiscard]] std::span<const Asset> dashboard_assets() noexcept;

/// The asset served at `path`, or nullptr.
[[nodiscard]] const Asset* find_asset(std::string_view path) noexcept;

}  // namespace shmsnap::serve
