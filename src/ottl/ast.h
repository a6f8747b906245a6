// The syntax tree of one OTTL statement or condition, as the parser builds it. The checker
// (compile.cc) resolves its paths and functions into a Program; nothing here knows a context.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ottl/value.h"

namespace otlpd::ottl {

struct Node;
using NodePtr = std::unique_ptr<Node>;

enum class NodeKind : uint8_t {
  kLiteral,  // string, int, float, bool, nil, bytes
  kPath,     // lower-case identifiers joined by dots, then keys: resource.attributes["k"][0]
  kCall,     // Name(args)[keys]: an editor (lower-case) or a converter (upper-case)
  kSymbol,   // an upper-case identifier without arguments: an enum, or a function as argument
  kList,     // [a, b, c]
  kMath,     // lhs (+ - * /) rhs
  kNegate,   // -operand (operand not a number literal)
  kCompare,  // lhs (== != < <= > >=) rhs
  kAnd,
  kOr,
  kNot,
};

enum class MathOp : uint8_t { kAdd, kSub, kMul, kDiv };

struct PathKey {
  int column = 1;
  bool is_int = false;
  std::string str;
  int64_t index = 0;
  NodePtr expr;  // a key computed from an expression (not in the supported subset)
};

struct Arg {
  std::string name;  // empty for a positional argument
  int column = 1;
  NodePtr value;
};

struct Node {
  NodeKind kind = NodeKind::kLiteral;
  int column = 1;
  Value literal;
  std::vector<std::string> segments;  // kPath
  std::vector<int> segment_columns;
  std::vector<PathKey> keys;   // kPath, kCall
  std::string name;            // kCall, kSymbol
  std::vector<Arg> args;       // kCall
  std::vector<NodePtr> items;  // kList
  MathOp math = MathOp::kAdd;
  CompareOp compare = CompareOp::kEq;
  NodePtr lhs, rhs;  // kMath, kCompare, kAnd, kOr; kNot and kNegate use lhs
};

struct StatementAst {
  NodePtr editor;  // a kCall
  NodePtr where;   // null without a where clause
};

}  // namespace otlpd::ottl
