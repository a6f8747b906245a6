#include "processors/lookup/table.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"

namespace otlpd::processors::lookup {
namespace {

absl::Status lineError(int line, std::string_view message) {
  return absl::InvalidArgumentError(strCat("line ", line, ": ", message));
}

// Builds the table from rows given as (line, cells by column name), shared by every format.
class TableBuilder {
 public:
  TableBuilder(const std::vector<std::string>& keys, std::string_view default_key)
      : keys_(keys), default_key_(default_key) {}

  // `cells` in column order; a cell of nullopt adds no attribute.
  absl::Status addRow(int line,
                      std::vector<std::pair<std::string, std::optional<otlp::Value>>> cells,
                      const std::vector<std::string>& key_values) {
    LookupRow row;
    for (auto& [column, value] : cells) {
      bool is_key = false;
      for (const std::string& key : keys_) is_key |= key == column;
      if (is_key || !value) continue;
      row.attributes.emplace_back(column, *std::move(value));
    }
    std::vector<std::string_view> views(key_values.begin(), key_values.end());
    std::string composite = LookupTable::compositeKey(views);
    auto [it, inserted] = lines_.emplace(composite, line);
    if (!inserted) {
      return lineError(line, strCat("duplicate key '", absl::StrJoin(key_values, "', '"),
                                    "' (first on line ", it->second, ")"));
    }
    table_.add(key_values, std::move(row), default_key_);
    return absl::OkStatus();
  }

  LookupTable take() { return std::move(table_); }

 private:
  const std::vector<std::string>& keys_;
  std::string_view default_key_;
  LookupTable table_;
  absl::flat_hash_map<std::string, int> lines_;
};

// ---- CSV (RFC 4180) ----

struct CsvRecord {
  int line = 0;
  std::vector<std::string> cells;
};

absl::StatusOr<std::vector<CsvRecord>> splitCsv(std::string_view text) {
  std::vector<CsvRecord> records;
  int line = 1;
  size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // a byte order mark some editors write
  while (i < text.size()) {
    CsvRecord record;
    record.line = line;
    bool blank = true;
    while (true) {
      std::string cell;
      if (i < text.size() && text[i] == '"') {
        blank = false;
        const int quote_line = line;
        ++i;
        while (true) {
          if (i >= text.size()) return lineError(quote_line, "unterminated quoted field");
          const char c = text[i++];
          if (c == '"') {
            if (i < text.size() && text[i] == '"') {
              cell.push_back('"');
              ++i;
              continue;
            }
            break;
          }
          if (c == '\n') ++line;
          cell.push_back(c);
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          return lineError(line, "text after a closing quote");
        }
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"') return lineError(line, "a quote inside an unquoted field");
          cell.push_back(text[i++]);
        }
        if (!cell.empty()) blank = false;
      }
      record.cells.push_back(std::move(cell));
      if (i < text.size() && text[i] == ',') {
        blank = false;
        ++i;
        continue;
      }
      break;
    }
    if (i < text.size() && text[i] == '\r') ++i;
    if (i < text.size() && text[i] == '\n') ++i;
    ++line;
    if (!blank) records.push_back(std::move(record));
  }
  return records;
}

absl::StatusOr<LookupTable> parseCsv(std::string_view text, const std::vector<std::string>& keys,
                                     std::string_view default_key) {
  absl::StatusOr<std::vector<CsvRecord>> records = splitCsv(text);
  if (!records.ok()) return records.status();
  if (records->empty()) return lineError(1, "no header row");
  const CsvRecord& header = records->front();
  std::vector<size_t> key_columns;
  for (const std::string& key : keys) {
    size_t found = header.cells.size();
    for (size_t c = 0; c < header.cells.size(); ++c) {
      if (absl::StripAsciiWhitespace(header.cells[c]) == key) found = c;
    }
    if (found == header.cells.size()) {
      return lineError(header.line, strCat("the header has no key column '", key, "'"));
    }
    key_columns.push_back(found);
  }
  std::vector<std::string> columns;
  for (const std::string& cell : header.cells) {
    std::string name(absl::StripAsciiWhitespace(cell));
    if (name.empty()) return lineError(header.line, "a column without a name");
    columns.push_back(std::move(name));
  }
  TableBuilder builder(keys, default_key);
  for (size_t r = 1; r < records->size(); ++r) {
    CsvRecord& record = (*records)[r];
    if (record.cells.size() != columns.size()) {
      return lineError(record.line, strCat(record.cells.size(), " fields where the header has ",
                                           columns.size()));
    }
    std::vector<std::string> key_values;
    for (size_t c : key_columns) key_values.push_back(record.cells[c]);
    std::vector<std::pair<std::string, std::optional<otlp::Value>>> cells;
    for (size_t c = 0; c < columns.size(); ++c) {
      std::optional<otlp::Value> value;
      if (!record.cells[c].empty()) value = otlp::Value::ofString(std::move(record.cells[c]));
      cells.emplace_back(columns[c], std::move(value));
    }
    if (absl::Status added = builder.addRow(record.line, std::move(cells), key_values);
        !added.ok()) {
      return added;
    }
  }
  return builder.take();
}

// ---- JSON and YAML (yaml-cpp reads both, and knows every node's line) ----

int lineOf(const YAML::Node& node) {
  return node.Mark().line + 1;
}

bool isPlainScalar(const YAML::Node& node) {
  return node.Tag() == "?";
}

// A cell's value, typed as JSON and YAML type it; nullopt for null.
absl::StatusOr<std::optional<otlp::Value>> toValue(const YAML::Node& node, int depth) {
  if (depth > otlp::kMaxValueDepth) return lineError(lineOf(node), "value nested too deep");
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return std::optional<otlp::Value>();
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (!isPlainScalar(node)) return std::optional<otlp::Value>(otlp::Value::ofString(text));
      int64_t i = 0;
      double d = 0;
      const std::string lower = absl::AsciiStrToLower(text);
      if (lower == "null" || lower == "~") return std::optional<otlp::Value>();
      if (lower == "true" || lower == "false") {
        return std::optional<otlp::Value>(otlp::Value::ofBool(lower == "true"));
      }
      if (absl::SimpleAtoi(text, &i)) return std::optional<otlp::Value>(otlp::Value::ofInt(i));
      if (!text.empty() &&
          (absl::ascii_isdigit(text[0]) || text[0] == '-' || text[0] == '+' || text[0] == '.') &&
          absl::SimpleAtod(text, &d)) {
        return std::optional<otlp::Value>(otlp::Value::ofDouble(d));
      }
      return std::optional<otlp::Value>(otlp::Value::ofString(text));
    }
    case YAML::NodeType::Sequence: {
      otlp::Value::Array items;
      for (const YAML::Node& item : node) {
        absl::StatusOr<std::optional<otlp::Value>> value = toValue(item, depth + 1);
        if (!value.ok()) return value.status();
        items.push_back(value->value_or(otlp::Value()));
      }
      return std::optional<otlp::Value>(otlp::Value::ofArray(std::move(items)));
    }
    case YAML::NodeType::Map: {
      otlp::Value::Map entries;
      for (const auto& entry : node) {
        absl::StatusOr<std::optional<otlp::Value>> value = toValue(entry.second, depth + 1);
        if (!value.ok()) return value.status();
        entries.emplace_back(entry.first.Scalar(), value->value_or(otlp::Value()));
      }
      return std::optional<otlp::Value>(otlp::Value::ofMap(std::move(entries)));
    }
  }
  return std::optional<otlp::Value>();
}

absl::StatusOr<std::vector<std::pair<std::string, std::optional<otlp::Value>>>> rowCells(
    const YAML::Node& row) {
  std::vector<std::pair<std::string, std::optional<otlp::Value>>> cells;
  for (const auto& entry : row) {
    if (!entry.first.IsScalar())
      return lineError(lineOf(entry.first), "a column name must be text");
    absl::StatusOr<std::optional<otlp::Value>> value = toValue(entry.second, 1);
    if (!value.ok()) return value.status();
    cells.emplace_back(entry.first.Scalar(), *std::move(value));
  }
  return cells;
}

absl::StatusOr<LookupTable> parseTree(std::string_view text, const std::vector<std::string>& keys,
                                      std::string_view default_key) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return lineError(e.mark.line + 1, e.msg);
  }
  TableBuilder builder(keys, default_key);
  try {
    if (root.IsSequence()) {
      for (const YAML::Node& row : root) {
        if (!row.IsMap()) return lineError(lineOf(row), "a row must be an object");
        std::vector<std::string> key_values;
        for (const std::string& key : keys) {
          const YAML::Node cell = row[key];
          if (!cell || !cell.IsScalar()) {
            return lineError(lineOf(row), strCat("the row has no value for the key '", key, "'"));
          }
          key_values.push_back(cell.Scalar());
        }
        auto cells = rowCells(row);
        if (!cells.ok()) return cells.status();
        if (absl::Status s = builder.addRow(lineOf(row), *std::move(cells), key_values); !s.ok()) {
          return s;
        }
      }
    } else if (root.IsMap()) {
      if (keys.size() != 1) {
        return lineError(lineOf(root),
                         "a table keyed by several attributes must be a list of objects");
      }
      for (const auto& entry : root) {
        if (!entry.first.IsScalar()) return lineError(lineOf(entry.first), "a key must be text");
        if (!entry.second.IsMap()) {
          return lineError(lineOf(entry.second), "a row must be an object");
        }
        auto cells = rowCells(entry.second);
        if (!cells.ok()) return cells.status();
        if (absl::Status s =
                builder.addRow(lineOf(entry.first), *std::move(cells), {entry.first.Scalar()});
            !s.ok()) {
          return s;
        }
      }
    } else if (!root.IsNull()) {
      return lineError(lineOf(root), "the table must be a list of objects or an object of rows");
    }
  } catch (const YAML::Exception& e) {
    return lineError(e.mark.line + 1, e.msg);
  }
  return builder.take();
}

}  // namespace

std::optional<TableFormat> tableFormatFromName(std::string_view name) {
  if (name == "csv") return TableFormat::kCsv;
  if (name == "json") return TableFormat::kJson;
  if (name == "yaml" || name == "yml") return TableFormat::kYaml;
  return std::nullopt;
}

std::optional<TableFormat> tableFormatFromPath(std::string_view path) {
  const size_t dot = path.rfind('.');
  const size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return std::nullopt;
  }
  return tableFormatFromName(absl::AsciiStrToLower(toAbsl(path.substr(dot + 1))));
}

std::string LookupTable::compositeKey(const std::vector<std::string_view>& key_values) {
  if (key_values.size() == 1) return std::string(key_values[0]);
  std::string key;
  for (size_t i = 0; i < key_values.size(); ++i) {
    if (i != 0) key.push_back('\0');
    key.append(key_values[i]);
  }
  return key;
}

const LookupRow* LookupTable::find(std::string_view key_value) const {
  auto it = rows_.find(toAbsl(key_value));
  return it == rows_.end() ? nullptr : &it->second;
}

const LookupRow* LookupTable::find(const std::vector<std::string_view>& key_values) const {
  if (key_values.size() == 1) return find(key_values[0]);
  return find(compositeKey(key_values));
}

bool LookupTable::add(const std::vector<std::string>& key_values, LookupRow row,
                      std::string_view default_key) {
  bool is_default = !key_values.empty();
  for (const std::string& v : key_values) is_default &= v == default_key;
  if (is_default) {
    if (default_row_) return false;
    default_row_ = std::move(row);
    return true;
  }
  std::vector<std::string_view> views(key_values.begin(), key_values.end());
  return rows_.emplace(compositeKey(views), std::move(row)).second;
}

void LookupTable::prefixAttributes(std::string_view prefix) {
  if (prefix.empty()) return;
  auto apply = [&](LookupRow& row) {
    for (auto& [name, value] : row.attributes) name = strCat(prefix, name);
  };
  for (auto& [key, row] : rows_) apply(row);
  if (default_row_) apply(*default_row_);
}

absl::StatusOr<LookupTable> parseLookupTable(std::string_view text, TableFormat format,
                                             const std::vector<std::string>& keys,
                                             std::string_view default_key) {
  if (keys.empty()) return absl::InvalidArgumentError("no key columns");
  if (format == TableFormat::kCsv) return parseCsv(text, keys, default_key);
  return parseTree(text, keys, default_key);
}

absl::StatusOr<LookupRow> rowFromYaml(const YAML::Node& mapping) {
  LookupRow row;
  try {
    if (!mapping.IsMap()) return lineError(lineOf(mapping), "must be a mapping of attributes");
    auto cells = rowCells(mapping);
    if (!cells.ok()) return cells.status();
    for (auto& [name, value] : *cells) {
      if (value) row.attributes.emplace_back(std::move(name), *std::move(value));
    }
  } catch (const YAML::Exception& e) {
    return lineError(e.mark.line + 1, e.msg);
  }
  return row;
}

}  // namespace otlpd::processors::lookup
