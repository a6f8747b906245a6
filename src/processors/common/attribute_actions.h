// The Collector's attribute actions (coreinternal/attraction), shared by the `attributes` and
// `resource` processors: insert, update, upsert, delete, hash, extract and convert, read from a
// config list and applied in order to one editable attribute list (otlp/wire_edit.h). Pure.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_node.h"
#include "otlp/value.h"
#include "otlp/wire_edit.h"
#include "pipeline/request_metadata.h"

namespace re2 {
class RE2;
}

namespace otlpd::processors {

// Request metadata (gRPC metadata, HTTP headers) of the request being processed, for
// `from_context`: the value of `key` (matched without regard to case, as the Collector does), with
// several values joined by ";"; nullopt when absent. A key "auth.<name>" asks for what the
// receiver's authenticator set about the client instead (pipeline::RequestMetadata::auth).
using MetadataLookup = std::function<std::optional<std::string_view>(std::string_view key)>;

// A MetadataLookup over the metadata a batch carries; `joined` holds a value made of several
// (valid until the next lookup).
MetadataLookup lookupIn(const pipeline::RequestMetadata& metadata, std::string& joined);

class AttributeActions {
 public:
  // Reads the actions listed under `list_key` of `config` (`actions` for the attributes processor,
  // `attributes` for the resource processor). Every problem is recorded in the config's errors with
  // its path, under the same conditions the Collector refuses the action; an absent or empty list
  // is one too (the Collector requires it).
  static AttributeActions read(config::ConfigNode& config, std::string_view list_key);

  size_t size() const { return actions_.size(); }

  // Applies every action in order. `metadata` serves `from_context`; null means the request has
  // none, so those actions find nothing (and fall back to `default_value`).
  void apply(otlp::AttributeList& attributes, const MetadataLookup* metadata = nullptr) const;

  enum class Kind : uint8_t { kInsert, kUpdate, kUpsert, kDelete, kHash, kExtract, kConvert };
  enum class ConvertTo : uint8_t { kString, kInt, kDouble };

 private:
  struct Action {
    Kind kind = Kind::kInsert;
    std::string key;
    std::optional<otlp::Value> value;
    std::string from_attribute;
    std::string from_context;
    std::optional<otlp::Value> default_value;
    // delete and hash: the keys it matches; extract: what it finds in the value.
    std::shared_ptr<const re2::RE2> pattern;
    std::vector<std::string> group_names;  // extract: the name of capture group i + 1
    ConvertTo convert_to = ConvertTo::kString;
  };
  static std::optional<Action> readAction(config::ConfigNode& node);
  static void applyOne(const Action& action, otlp::AttributeList& attributes,
                       const MetadataLookup* metadata);

  std::vector<Action> actions_;
};

// The Collector's hash action on one value: SHA-256 of a string's bytes, of a bool as one byte, of
// an int or a double's bits as 8 little-endian bytes, in lowercase hex; "" for other kinds.
// Writes 64 characters to `hex` and returns true, or returns false for kinds that hash to "".
bool hashValueHex(const otlp::Value& value, char hex[64]);
void sha256Hex(std::string_view data, char hex[64]);

// Conversions as Go's strconv does them for the convert action (ParseInt(s, 10, 64) and
// ParseFloat(s, 64)); nullopt where Go reports an error.
std::optional<int64_t> goParseInt(std::string_view s);
std::optional<double> goParseFloat(std::string_view s);

}  // namespace otlpd::processors
