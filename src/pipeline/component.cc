#include "pipeline/component.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace otlpd::pipeline {
namespace {

bool validTypeChars(std::string_view s) {
  if (s.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<ComponentId> ComponentId::parse(std::string_view text) {
  ComponentId id;
  const size_t slash = text.find('/');
  id.type = std::string(text.substr(0, slash));
  if (slash != std::string_view::npos) {
    id.name = std::string(text.substr(slash + 1));
    if (id.name.empty()) {
      return absl::InvalidArgumentError(
          strCat("component id '", text, "' has an empty name after '/'"));
    }
  }
  if (!validTypeChars(id.type)) {
    return absl::InvalidArgumentError(strCat(
        "component id '", text, "' must start with a letter type made of letters, digits and _"));
  }
  return id;
}

std::string_view componentKindName(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::kReceiver:
      return "receiver";
    case ComponentKind::kProcessor:
      return "processor";
    case ComponentKind::kExporter:
      return "exporter";
    case ComponentKind::kExtension:
      return "extension";
    case ComponentKind::kConnector:
      return "connector";
  }
  return "component";
}

}  // namespace otlpd::pipeline
