#include "pipeline/storage.h"

#include <cstdio>

namespace otlpd::pipeline {

std::string storageClientName(ComponentKind kind, const ComponentId& owner,
                              std::string_view client_name) {
  std::string raw = std::string(componentKindName(kind)) + "_" + owner.type + "_" + owner.name;
  if (!client_name.empty()) {
    raw += "_";
    raw += client_name;
  }
  std::string out;
  out.reserve(raw.size());
  for (const unsigned char c : raw) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_';
    if (safe) {
      out += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "~%04X", static_cast<unsigned>(c));
      out += escaped;
    }
  }
  return out;
}

}  // namespace otlpd::pipeline
