// The lookup processor's table: rows of resource attributes keyed by one or more resource
// attributes, parsed from CSV, JSON or YAML text. Pure: text in, table or an error naming the
// line out; the processor reads the file and swaps tables.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "otlp/value.h"

namespace otlpd::processors::lookup {

enum class TableFormat { kCsv, kJson, kYaml };
// "csv", "json", "yaml"/"yml"; nullopt for anything else.
std::optional<TableFormat> tableFormatFromName(std::string_view name);
// From the file name's extension (.csv, .json, .yaml, .yml).
std::optional<TableFormat> tableFormatFromPath(std::string_view path);

// The attributes one row puts on a resource, in the table's column order.
struct LookupRow {
  std::vector<std::pair<std::string, otlp::Value>> attributes;
};

// The key cell that marks the default row (every key column of the row holds it), unless the
// `default` setting names another.
inline constexpr std::string_view kDefaultRowKey = "*";

class LookupTable {
 public:
  // The row whose key columns hold `key_values` (in the order of the table's keys), or null.
  const LookupRow* find(const std::vector<std::string_view>& key_values) const;
  // Faster for the common single-key table.
  const LookupRow* find(std::string_view key_value) const;
  // The row of the default key ("*"), or null.
  const LookupRow* defaultRow() const { return default_row_ ? &*default_row_ : nullptr; }
  size_t size() const { return rows_.size(); }

  // Prefixes every attribute name (the `attribute_prefix` setting).
  void prefixAttributes(std::string_view prefix);

  // Adds a row (the default row when every key value is `default_key`); false if its key is taken.
  bool add(const std::vector<std::string>& key_values, LookupRow row,
           std::string_view default_key = kDefaultRowKey);

  static std::string compositeKey(const std::vector<std::string_view>& key_values);

 private:
  absl::flat_hash_map<std::string, LookupRow> rows_;
  std::optional<LookupRow> default_row_;
};

// Parses a table whose key columns are `keys` (attribute names). Every other column becomes a
// resource attribute. CSV: a header row naming the columns, RFC 4180 quoting, every value a
// string, an empty cell adds nothing. JSON and YAML: a list of objects (key columns as members),
// or, for a single key, an object from key value to the attributes' object; typed values (numbers,
// booleans, lists, maps) keep their type, null adds nothing. A duplicate key is an error. Errors
// say the line ("line 7: ...").
absl::StatusOr<LookupTable> parseLookupTable(std::string_view text, TableFormat format,
                                             const std::vector<std::string>& keys,
                                             std::string_view default_key = kDefaultRowKey);

// A row written as a YAML mapping of attribute to value (the `default` setting), typed as table
// cells are.
absl::StatusOr<LookupRow> rowFromYaml(const YAML::Node& mapping);

}  // namespace otlpd::processors::lookup
