// Escaping text for JSON strings and one-line console output, shared by the logger and every
// place that writes small JSON documents (ready file, dead-letter headers, loadgen reports).
#pragma once

#include <string>
#include <string_view>

namespace otlpd::common {

enum class Escape {
  kJson,          // inside a JSON string: quotes, backslashes and control characters
  kJsonHtmlSafe,  // as kJson, and <, > and & as \u003c…, as Go's encoding/json writes them (the
                  // Collector's renderings of maps and slices as strings)
  kControl,       // console text: control characters only, so a line stays one line
};

// Appends `s` escaped for `mode`; malformed UTF-8 becomes U+FFFD, so the output is always valid.
void appendEscaped(std::string& out, std::string_view s, Escape mode);
// Appends `s` as a quoted JSON string.
void appendJsonString(std::string& out, std::string_view s);
// `s` as a quoted JSON string.
std::string jsonString(std::string_view s);

}  // namespace otlpd::common
