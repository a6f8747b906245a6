#include "ui/assets.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "ui/embedded_files.h"

namespace otlpd::ui {
namespace {

constexpr std::string_view kIndex = "index.html";
// Static files live under this URL prefix; everything else is the app's own routes.
constexpr std::string_view kStaticPrefix = "/static/";

// First path segments that the single-page app routes itself (hash routes are "#/search", but a
// shared link like Jaeger's "/trace/<id>" must load the app, which then moves it to the hash).
constexpr std::array<std::string_view, 8> kAppRoutes = {
    "search", "trace", "traces", "logs", "metrics", "dependencies", "services", "index.html"};

std::string_view contentTypeFor(std::string_view file) {
  const size_t dot = file.rfind('.');
  const std::string_view ext =
      dot == std::string_view::npos ? std::string_view{} : file.substr(dot);
  struct Type {
    std::string_view ext;
    std::string_view type;
  };
  static constexpr std::array<Type, 13> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/plain; charset=utf-8"},
      {".map", "application/json"},
      {".woff2", "font/woff2"},
      {".webmanifest", "application/manifest+json"},
  }};
  for (const Type& t : kTypes) {
    if (t.ext == ext) return t.type;
  }
  return "application/octet-stream";
}

// The file (relative to ui/) that answers a request path, or empty when none could.
// Refuses anything that could step outside ui/: "..", ".", empty segments, backslashes, NULs.
std::string relativeFileFor(std::string_view path) {
  if (const size_t cut = path.find_first_of("?#"); cut != std::string_view::npos) {
    path = path.substr(0, cut);
  }
  if (path.empty() || path.front() != '/') return {};
  if (path.find('\\') != std::string_view::npos || path.find('\0') != std::string_view::npos ||
      path.find('%') != std::string_view::npos) {
    return {};  // no percent-encoded names in ui/, and decoding is where traversal hides
  }
  if (path.starts_with(kStaticPrefix)) {
    std::string_view rest = path.substr(kStaticPrefix.size());
    if (rest.empty()) return {};
    size_t start = 0;
    while (start <= rest.size()) {
      const size_t end = std::min(rest.find('/', start), rest.size());
      const std::string_view segment = rest.substr(start, end - start);
      if (segment.empty() || segment == "." || segment == ".." || segment.front() == '.') {
        return {};  // also hides dotfiles, which are never part of the UI
      }
      start = end + 1;
    }
    return std::string(rest);
  }
  const std::string_view rest = path.substr(1);
  const std::string_view first = rest.substr(0, rest.find('/'));
  if (first.empty()) return rest.empty() ? std::string(kIndex) : std::string{};
  if (std::find(kAppRoutes.begin(), kAppRoutes.end(), first) != kAppRoutes.end()) {
    return std::string(kIndex);
  }
  return {};
}

std::optional<std::string> readEmbedded(std::string_view file) {
  const embedded::EmbeddedFile* begin = embedded::kFiles;
  const embedded::EmbeddedFile* end = embedded::kFiles + embedded::kFileCount;
  const auto* it = std::lower_bound(
      begin, end, file,
      [](const embedded::EmbeddedFile& f, std::string_view p) { return f.path < p; });
  if (it == end || it->path != file) return std::nullopt;
  return std::string(it->data);
}

// Reads `file` under `directory` only if its canonical path (symlinks resolved) stays inside the
// canonical directory and is a regular file.
std::optional<std::string> readFromDirectory(const std::string& directory, std::string_view file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root = fs::canonical(directory, ec);
  if (ec) return std::nullopt;
  const fs::path target = fs::weakly_canonical(root / fs::path(std::string(file)), ec);
  if (ec) return std::nullopt;
  const fs::path relative = target.lexically_relative(root);
  if (relative.empty() || *relative.begin() == ".." || relative.is_absolute()) return std::nullopt;
  if (!fs::is_regular_file(target, ec) || ec) return std::nullopt;
  std::ifstream in(target, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream body;
  body << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(body).str();
}

}  // namespace

std::optional<Asset> findAsset(std::string_view path, const std::string& override_directory) {
  const std::string file = relativeFileFor(path);
  if (file.empty()) return std::nullopt;
  std::optional<std::string> body =
      override_directory.empty() ? readEmbedded(file) : readFromDirectory(override_directory, file);
  if (!body) return std::nullopt;
  return Asset{contentTypeFor(file), std::move(*body)};
}

}  // namespace otlpd::ui
