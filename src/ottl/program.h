// A checked OTTL expression: paths resolved to Fields, functions to FnIds with their literal
// arguments validated and regexes compiled, static types known. What the evaluator runs.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ottl/accessor.h"
#include "ottl/ast.h"
#include "ottl/value.h"

namespace re2 {
class RE2;
}

namespace otlpd::ottl {

enum class FnId : uint8_t {
  // Editors
  kSet,
  kDeleteKey,
  kDeleteMatchingKeys,
  kKeepKeys,
  kKeepMatchingKeys,
  kReplacePattern,
  kReplaceAllPatterns,
  kReplaceMatch,
  kReplaceAllMatches,
  kTruncateAll,
  kLimit,
  kMergeMaps,
  kFlatten,
  // Converters
  kConcat,
  kConvertCase,
  kSubstring,
  kSplit,
  kIsMatch,
  kIsString,
  kIsInt,
  kIsMap,
  kLen,
  kInt,
  kDouble,
  kString,
  kSha256,
  kFnv,
  kParseJson,
  kExtractPatterns,
  kTraceId,
  kSpanId,
  kDuration,
  kUnixNano,
  kNow,
};

// What an argument must be.
enum class Param : uint8_t {
  kSetter,      // a path that can be written
  kMapSetter,   // a path to a map that can be written (attributes, body, cache, a nested map)
  kGetter,      // any value
  kString,      // a string literal
  kInt,         // an int literal
  kBool,        // a bool literal
  kStringList,  // a list of string literals
  kGetterList,  // a list of values
  kRegex,       // a string literal that compiles as an RE2 regex
  kGlob,        // a string literal glob pattern
  kFunction,    // the name of a string -> string converter (SHA256)
};

struct ParamSpec {
  std::string_view name;
  Param kind;
  bool optional = false;
  std::string_view alias = {};  // a second accepted name for named arguments
};

struct FunctionSpec {
  std::string_view name;
  FnId id;
  bool editor;
  std::vector<ParamSpec> params;
  Type returns = Type::kNil;
};

// The function of that exact name, or null.
const FunctionSpec* findFunction(std::string_view name);

struct IndexKey {
  bool is_int = false;
  std::string str;
  int64_t index = 0;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind : uint8_t {
    kConst,
    kPath,
    kCall,  // editor or converter
    kList,
    kMath,
    kNegate,
    kCompare,
    kAnd,
    kOr,
    kNot,
  };
  Kind kind = Kind::kConst;
  Type type = Type::kAny;  // static type; kAny when known only at run time
  int column = 1;
  Value constant;              // kConst
  Field field;                 // kPath
  std::vector<IndexKey> keys;  // kPath, kCall: indexes applied to the value
  FnId fn = FnId::kSet;        // kCall
  std::vector<ExprPtr> args;   // kCall, by parameter position (null: optional and omitted)
  std::shared_ptr<const re2::RE2> regex;  // kCall with a kRegex parameter
  FnId hash_fn = FnId::kSha256;           // kCall with a kFunction parameter given
  bool has_hash_fn = false;
  std::vector<ExprPtr> items;  // kList
  MathOp math = MathOp::kAdd;
  CompareOp compare = CompareOp::kEq;
  ExprPtr lhs, rhs;
};

}  // namespace otlpd::ottl
