// The pieces of OTTL's functions that are plain string work, apart so they are tested directly:
// Go's regexp replacement template, globs, case conversion, Go durations, hashing, JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "otlp/value.h"

namespace re2 {
class RE2;
}

namespace otlpd::ottl {

// Go's Regexp.ReplaceAllString: every non-overlapping match replaced by `replacement` with $1,
// ${1}, $name, ${name} expanded and $$ for a literal $; empty matches abutting a previous match are
// skipped. With `transform`, each expanded replacement goes through it first (replace_pattern's
// optional function and format). Returns nullopt when nothing matched.
struct ReplacementTransform {
  bool hash = false;        // apply SHA-256 (hex)
  std::string_view format;  // "...%s...", or empty
};
std::optional<std::string> replaceAllRegex(const re2::RE2& re, std::string_view text,
                                           std::string_view replacement,
                                           const ReplacementTransform& transform = {});

// A replacement after the optional function and format.
std::string transformReplacement(std::string_view replacement, const ReplacementTransform& t);

// A whole-string glob match: * any run of bytes, ? any one character, [abc] [a-z] [!x] [^x]
// classes, \ escapes.
bool globMatch(std::string_view pattern, std::string_view text);

// iancoleman/strcase's ToSnake and ToCamel (what ConvertCase uses).
std::string toSnakeCase(std::string_view s);
std::string toCamelCase(std::string_view s);

// Go's time.ParseDuration: "1h30m", "1.5s", "-300ms", "2us"/"2µs", "0".
absl::StatusOr<int64_t> parseGoDuration(std::string_view text);

std::string sha256Hex(std::string_view data);
std::string hexLower(std::string_view bytes);
std::optional<std::string> fromHex(std::string_view hex);

// JSON as ParseJSON reads it: objects → maps, arrays → arrays, numbers → doubles, null → empty.
absl::StatusOr<otlp::Value> parseJsonValue(std::string_view json);

}  // namespace otlpd::ottl
