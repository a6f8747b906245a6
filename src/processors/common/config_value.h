// Attribute values written in processor configs (`value: 123`, `value: "123"`, `value: true`),
// typed as the Collector types them: its YAML decoder resolves plain scalars to bool, int, float or
// null and keeps quoted ones as strings, and pcommon's FromRaw turns the result into an AnyValue.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>

#include "otlp/value.h"

namespace otlpd::processors {

// The value of a YAML node: quoted scalars are strings; plain scalars are null (nullopt), bools
// (true/false in any of YAML 1.2's spellings), ints (decimal, 0x, 0o, 0b), doubles (including
// .inf and .nan) or else strings; sequences are arrays and mappings maps.
std::optional<otlp::Value> valueFromYaml(const YAML::Node& node);

}  // namespace otlpd::processors
