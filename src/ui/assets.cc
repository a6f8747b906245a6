#include "ui/assets.h"

namespace otlpd::ui {

// Placeholder until the embedded UI lands: one page that says so.
std::optional<Asset> findAsset(std::string_view path, const std::string& /*override_directory*/) {
  if (path != "/" && path != "/index.html") return std::nullopt;
  return Asset{"text/html; charset=utf-8",
               "<!doctype html><title>otlpd</title><p>otlpd UI is not built yet.</p>", false};
}

}  // namespace otlpd::ui
