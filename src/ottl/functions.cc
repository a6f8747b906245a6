// The functions of the supported subset and their signatures (names as the Collector's ottlfuncs
// documents them; named arguments by the snake-cased parameter names).
#include <array>

#include "ottl/program.h"

namespace otlpd::ottl {
namespace {

using P = Param;

const std::vector<FunctionSpec>& table() {
  static const std::vector<FunctionSpec> specs = {
      // Editors
      {"set", FnId::kSet, true, {{"target", P::kSetter}, {"value", P::kGetter}}},
      {"delete_key", FnId::kDeleteKey, true, {{"target", P::kMapSetter}, {"key", P::kString}}},
      {"delete_matching_keys",
       FnId::kDeleteMatchingKeys,
       true,
       {{"target", P::kMapSetter}, {"pattern", P::kRegex}}},
      {"keep_keys", FnId::kKeepKeys, true, {{"target", P::kMapSetter}, {"keys", P::kStringList}}},
      {"keep_matching_keys",
       FnId::kKeepMatchingKeys,
       true,
       {{"target", P::kMapSetter}, {"pattern", P::kRegex}}},
      {"replace_pattern",
       FnId::kReplacePattern,
       true,
       {{"target", P::kSetter},
        {"regex", P::kRegex},
        {"replacement", P::kGetter},
        {"function", P::kFunction, true},
        {"replacement_format", P::kString, true, "replacementFormat"}}},
      {"replace_all_patterns",
       FnId::kReplaceAllPatterns,
       true,
       {{"target", P::kMapSetter},
        {"mode", P::kString},
        {"regex", P::kRegex},
        {"replacement", P::kGetter},
        {"function", P::kFunction, true},
        {"replacement_format", P::kString, true, "replacementFormat"}}},
      {"replace_match",
       FnId::kReplaceMatch,
       true,
       {{"target", P::kSetter},
        {"pattern", P::kGlob},
        {"replacement", P::kGetter},
        {"function", P::kFunction, true},
        {"replacement_format", P::kString, true, "replacementFormat"}}},
      {"replace_all_matches",
       FnId::kReplaceAllMatches,
       true,
       {{"target", P::kMapSetter},
        {"pattern", P::kGlob},
        {"replacement", P::kGetter},
        {"function", P::kFunction, true},
        {"replacement_format", P::kString, true, "replacementFormat"}}},
      {"truncate_all",
       FnId::kTruncateAll,
       true,
       {{"target", P::kMapSetter},
        {"limit", P::kInt},
        {"utf8_safe", P::kBool, true},
        {"truncation_marker", P::kString, true}}},
      {"limit",
       FnId::kLimit,
       true,
       {{"target", P::kMapSetter}, {"limit", P::kInt}, {"priority_keys", P::kStringList}}},
      {"merge_maps",
       FnId::kMergeMaps,
       true,
       {{"target", P::kMapSetter}, {"source", P::kGetter}, {"strategy", P::kString}}},
      {"flatten",
       FnId::kFlatten,
       true,
       {{"target", P::kMapSetter},
        {"prefix", P::kString, true},
        {"depth", P::kInt, true},
        {"resolve_conflicts", P::kBool, true, "resolveConflicts"}}},
      // Converters
      {"Concat",
       FnId::kConcat,
       false,
       {{"vals", P::kGetterList, false, "values"}, {"delimiter", P::kString}},
       Type::kString},
      {"ConvertCase",
       FnId::kConvertCase,
       false,
       {{"target", P::kGetter}, {"to_case", P::kString, false, "toCase"}},
       Type::kString},
      {"Substring",
       FnId::kSubstring,
       false,
       {{"target", P::kGetter}, {"start", P::kGetter}, {"length", P::kGetter}},
       Type::kString},
      {"Split",
       FnId::kSplit,
       false,
       {{"target", P::kGetter}, {"delimiter", P::kString}},
       Type::kList},
      {"IsMatch",
       FnId::kIsMatch,
       false,
       {{"target", P::kGetter}, {"pattern", P::kRegex}},
       Type::kBool},
      {"IsString", FnId::kIsString, false, {{"target", P::kGetter, false, "value"}}, Type::kBool},
      {"IsInt", FnId::kIsInt, false, {{"target", P::kGetter, false, "value"}}, Type::kBool},
      {"IsMap", FnId::kIsMap, false, {{"target", P::kGetter, false, "value"}}, Type::kBool},
      {"Len", FnId::kLen, false, {{"target", P::kGetter}}, Type::kInt},
      {"Int", FnId::kInt, false, {{"target", P::kGetter, false, "value"}}, Type::kInt},
      {"Double", FnId::kDouble, false, {{"target", P::kGetter, false, "value"}}, Type::kDouble},
      {"String", FnId::kString, false, {{"target", P::kGetter, false, "value"}}, Type::kString},
      {"SHA256", FnId::kSha256, false, {{"target", P::kGetter, false, "value"}}, Type::kString},
      {"FNV", FnId::kFnv, false, {{"target", P::kGetter, false, "value"}}, Type::kInt},
      {"ParseJSON", FnId::kParseJson, false, {{"target", P::kGetter}}, Type::kAny},
      {"ExtractPatterns",
       FnId::kExtractPatterns,
       false,
       {{"target", P::kGetter}, {"pattern", P::kRegex}},
       Type::kMap},
      {"TraceID", FnId::kTraceId, false, {{"bytes", P::kGetter, false, "target"}}, Type::kBytes},
      {"SpanID", FnId::kSpanId, false, {{"bytes", P::kGetter, false, "target"}}, Type::kBytes},
      {"Duration", FnId::kDuration, false, {{"duration", P::kGetter}}, Type::kDuration},
      {"UnixNano", FnId::kUnixNano, false, {{"time", P::kGetter, false, "value"}}, Type::kInt},
      {"Now", FnId::kNow, false, {}, Type::kTime},
  };
  return specs;
}

}  // namespace

const FunctionSpec* findFunction(std::string_view name) {
  for (const FunctionSpec& spec : table()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace otlpd::ottl
