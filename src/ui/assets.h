// The web UI's static files (HTML, JS, CSS under ui/ in the source tree), embedded in the binary
// at build time so that the UI works offline from one file.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace otlpd::ui {

struct Asset {
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string body;
};

// The asset for a request path ("/", "/static/app.js"). Paths of the single-page app's own routes
// ("/search", "/trace/<id>", ...) answer index.html. nullopt when there is no such file.
// `override_directory`, when non-empty, serves files from that directory instead of the embedded
// copy (for UI development); paths that escape it are refused (nullopt).
std::optional<Asset> findAsset(std::string_view path, const std::string& override_directory = {});

}  // namespace otlpd::ui
