#include "ottl/parser.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

#include "common/strings.h"
#include "ottl/lexer.h"

namespace otlpd::ottl {
namespace {

bool isKeyword(std::string_view s) {
  return s == "where" || s == "and" || s == "or" || s == "not";
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  bool statement(StatementAst& out) {
    const Token& first = peek();
    if (first.kind != Tok::kIdent || isKeyword(first.text) || peek(1).kind != Tok::kLParen) {
      return fail(first, "a statement starts with an editor call such as set(...)");
    }
    out.editor = call();
    if (!out.editor) return false;
    if (!out.editor->keys.empty()) {
      return fail(out.editor->keys.front().column, "an editor's result cannot be indexed");
    }
    if (peek().kind == Tok::kIdent && peek().text == "where") {
      const Token& where = next();
      if (peek().kind == Tok::kEnd) return fail(where, "'where' needs a condition after it");
      out.where = orExpr();
      if (!out.where) return false;
    }
    return end();
  }

  bool condition(NodePtr& out) {
    if (peek().kind == Tok::kEnd) return fail(peek(), "empty condition");
    out = orExpr();
    if (!out) return false;
    return end();
  }

  const Error& error() const { return error_; }

 private:
  const Token& peek(size_t ahead = 0) const {
    const size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  const Token& next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool isIdent(std::string_view text) const {
    return peek().kind == Tok::kIdent && peek().text == text;
  }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::kIdent:
        return strCat("'", t.text, "'");
      case Tok::kString:
        return strCat("string \"", t.text, "\"");
      case Tok::kInt:
      case Tok::kFloat:
        return strCat("number ", t.text);
      default:
        return std::string(tokenName(t.kind));
    }
  }

  bool fail(int column, std::string message) {
    if (!failed_) {
      failed_ = true;
      error_.column = column;
      error_.message = std::move(message);
    }
    return false;
  }
  bool fail(const Token& t, std::string message) { return fail(t.column, std::move(message)); }
  NodePtr failNode(const Token& t, std::string message) {
    fail(t, std::move(message));
    return nullptr;
  }

  // Every level of nesting (parentheses, calls, lists, maps, signs, `not`) is a recursion of this
  // parser, and of the compiler and evaluator after it: deeper text is refused rather than let
  // overflow the stack (found by the ottl fuzz target).
  static constexpr int kMaxDepth = 200;  // about 100 levels of parentheses or calls
  int depth_ = 0;
  struct Nesting {
    explicit Nesting(int& depth) : depth_(depth) { ++depth_; }
    ~Nesting() { --depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
    int& depth_;
  };
  bool tooDeep() {
    if (depth_ <= kMaxDepth) return false;
    fail(peek(), "expression nested too deeply");
    return true;
  }

  bool expect(Tok kind, std::string_view what) {
    if (peek().kind != kind) {
      return fail(peek(),
                  strCat("expected ", tokenName(kind), " ", what, ", got ", describe(peek())));
    }
    next();
    return true;
  }

  bool end() {
    if (peek().kind == Tok::kEnd) return true;
    if (isIdent("where")) return fail(peek(), "unexpected 'where' (a condition has no 'where')");
    return fail(peek(), strCat("unexpected ", describe(peek()), " after the end"));
  }

  static NodePtr node(NodeKind kind, int column) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->column = column;
    return n;
  }
  static NodePtr binary(NodeKind kind, int column, NodePtr lhs, NodePtr rhs) {
    NodePtr n = node(kind, column);
    n->lhs = std::move(lhs);
    n->rhs = std::move(rhs);
    return n;
  }

  NodePtr orExpr() {
    NodePtr lhs = andExpr();
    while (lhs && isIdent("or")) {
      const int column = next().column;
      NodePtr rhs = andExpr();
      if (!rhs) return nullptr;
      lhs = binary(NodeKind::kOr, column, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  NodePtr andExpr() {
    NodePtr lhs = notExpr();
    while (lhs && isIdent("and")) {
      const int column = next().column;
      NodePtr rhs = notExpr();
      if (!rhs) return nullptr;
      lhs = binary(NodeKind::kAnd, column, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  NodePtr notExpr() {
    const Nesting nesting(depth_);
    if (tooDeep()) return nullptr;
    if (isIdent("not")) {
      const int column = next().column;
      NodePtr operand = notExpr();
      if (!operand) return nullptr;
      NodePtr n = node(NodeKind::kNot, column);
      n->lhs = std::move(operand);
      return n;
    }
    return comparison();
  }

  NodePtr comparison() {
    NodePtr lhs = additive();
    if (!lhs) return nullptr;
    CompareOp op;
    switch (peek().kind) {
      case Tok::kEq:
        op = CompareOp::kEq;
        break;
      case Tok::kNe:
        op = CompareOp::kNe;
        break;
      case Tok::kLt:
        op = CompareOp::kLt;
        break;
      case Tok::kLe:
        op = CompareOp::kLe;
        break;
      case Tok::kGt:
        op = CompareOp::kGt;
        break;
      case Tok::kGe:
        op = CompareOp::kGe;
        break;
      case Tok::kAssign:
        return failNode(peek(), "'=' assigns only named arguments; compare with '=='");
      default:
        return lhs;
    }
    const int column = next().column;
    NodePtr rhs = additive();
    if (!rhs) return nullptr;
    NodePtr n = binary(NodeKind::kCompare, column, std::move(lhs), std::move(rhs));
    n->compare = op;
    switch (peek().kind) {
      case Tok::kEq:
      case Tok::kNe:
      case Tok::kLt:
      case Tok::kLe:
      case Tok::kGt:
      case Tok::kGe:
        return failNode(peek(), "comparisons cannot be chained; join them with 'and'");
      default:
        break;
    }
    return n;
  }

  NodePtr additive() {
    NodePtr lhs = multiplicative();
    while (lhs && (peek().kind == Tok::kPlus || peek().kind == Tok::kMinus)) {
      const Token& op = next();
      NodePtr rhs = multiplicative();
      if (!rhs) return nullptr;
      const MathOp math = op.kind == Tok::kPlus ? MathOp::kAdd : MathOp::kSub;
      lhs = binary(NodeKind::kMath, op.column, std::move(lhs), std::move(rhs));
      lhs->math = math;
    }
    return lhs;
  }

  NodePtr multiplicative() {
    NodePtr lhs = unary();
    while (lhs && (peek().kind == Tok::kStar || peek().kind == Tok::kSlash)) {
      const Token& op = next();
      NodePtr rhs = unary();
      if (!rhs) return nullptr;
      const MathOp math = op.kind == Tok::kStar ? MathOp::kMul : MathOp::kDiv;
      lhs = binary(NodeKind::kMath, op.column, std::move(lhs), std::move(rhs));
      lhs->math = math;
    }
    return lhs;
  }

  NodePtr unary() {
    const Nesting nesting(depth_);
    if (tooDeep()) return nullptr;
    if (peek().kind == Tok::kMinus || peek().kind == Tok::kPlus) {
      const Token& sign = next();
      const bool negative = sign.kind == Tok::kMinus;
      if (peek().kind == Tok::kInt || peek().kind == Tok::kFloat) {
        NodePtr n = number(negative);
        if (n) n->column = sign.column;
        return n;
      }
      NodePtr operand = unary();
      if (!operand || !negative) return operand;
      NodePtr n = node(NodeKind::kNegate, sign.column);
      n->lhs = std::move(operand);
      return n;
    }
    return primary();
  }

  NodePtr number(bool negative) {
    const Token& t = next();
    NodePtr n = node(NodeKind::kLiteral, t.column);
    const std::string text = negative ? "-" + t.text : t.text;
    if (t.kind == Tok::kInt) {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size()) {
        return failNode(t, strCat("integer ", text, " does not fit in 64 bits"));
      }
      n->literal = Value::ofInt(v);
    } else {
      n->literal = Value::ofDouble(std::strtod(text.c_str(), nullptr));
    }
    return n;
  }

  NodePtr primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::kLParen: {
        next();
        NodePtr inner = orExpr();
        if (!inner) return nullptr;
        if (!expect(Tok::kRParen, "to close '('")) return nullptr;
        return inner;
      }
      case Tok::kString:
      case Tok::kBytes: {
        next();
        NodePtr n = node(NodeKind::kLiteral, t.column);
        n->literal = t.kind == Tok::kString ? Value::ofString(t.text) : Value::ofBytes(t.text);
        return n;
      }
      case Tok::kInt:
      case Tok::kFloat:
        return number(false);
      case Tok::kLBracket:
        return list();
      case Tok::kLBrace:
        return failNode(t, "map literals ({...}) are not supported");
      case Tok::kIdent:
        return identifier();
      case Tok::kEnd:
        return failNode(t, "expected a value, got end of statement");
      default:
        return failNode(t, strCat("expected a value, got ", describe(t)));
    }
  }

  NodePtr list() {
    const Token& open = next();
    NodePtr n = node(NodeKind::kList, open.column);
    if (peek().kind == Tok::kRBracket) {
      next();
      return n;
    }
    while (true) {
      NodePtr item = additive();
      if (!item) return nullptr;
      n->items.push_back(std::move(item));
      if (peek().kind == Tok::kComma) {
        next();
        continue;
      }
      if (!expect(Tok::kRBracket, "to close the list")) return nullptr;
      return n;
    }
  }

  NodePtr identifier() {
    const Token& t = peek();
    if (t.text == "true" || t.text == "false" || t.text == "nil") {
      next();
      NodePtr n = node(NodeKind::kLiteral, t.column);
      if (t.text != "nil") n->literal = Value::ofBool(t.text == "true");
      return n;
    }
    if (isKeyword(t.text)) return failNode(t, strCat("expected a value, got '", t.text, "'"));
    if (peek(1).kind == Tok::kLParen) return call();
    if (std::isupper(static_cast<unsigned char>(t.text[0]))) {
      next();
      NodePtr n = node(NodeKind::kSymbol, t.column);
      n->name = t.text;
      if (peek().kind == Tok::kDot || peek().kind == Tok::kLBracket) {
        return failNode(peek(), strCat("'", t.text, "' is not a path (paths are lower-case)"));
      }
      return n;
    }
    return path();
  }

  NodePtr path() {
    const Token& first = next();
    NodePtr n = node(NodeKind::kPath, first.column);
    n->segments.push_back(first.text);
    n->segment_columns.push_back(first.column);
    while (peek().kind == Tok::kDot) {
      next();
      const Token& seg = peek();
      if (seg.kind != Tok::kIdent) {
        return failNode(seg, strCat("expected a field name after '.', got ", describe(seg)));
      }
      next();
      n->segments.push_back(seg.text);
      n->segment_columns.push_back(seg.column);
    }
    if (!keys(*n)) return nullptr;
    return n;
  }

  bool keys(Node& n) {
    while (peek().kind == Tok::kLBracket) {
      const Token& open = next();
      PathKey key;
      key.column = peek().column;
      if (peek().kind == Tok::kString && peek(1).kind == Tok::kRBracket) {
        key.str = next().text;
      } else if (peek().kind == Tok::kInt && peek(1).kind == Tok::kRBracket) {
        const Token& idx = next();
        key.is_int = true;
        auto [ptr, ec] =
            std::from_chars(idx.text.data(), idx.text.data() + idx.text.size(), key.index);
        if (ec != std::errc()) return fail(idx, "index out of range");
      } else if (peek().kind == Tok::kRBracket) {
        return fail(peek(), "empty key '[]'");
      } else {
        (void)open;
        key.expr = additive();
        if (!key.expr) return false;
      }
      if (!expect(Tok::kRBracket, "to close the key")) return false;
      n.keys.push_back(std::move(key));
    }
    return true;
  }

  NodePtr call() {
    const Token& name = next();
    NodePtr n = node(NodeKind::kCall, name.column);
    n->name = name.text;
    next();  // '('
    bool named_seen = false;
    if (peek().kind != Tok::kRParen) {
      while (true) {
        Arg arg;
        arg.column = peek().column;
        if (peek().kind == Tok::kIdent && peek(1).kind == Tok::kAssign) {
          arg.name = next().text;
          next();
          named_seen = true;
        } else if (named_seen) {
          return failNode(peek(), "positional arguments must come before named ones");
        }
        if (peek().kind == Tok::kEnd) {
          return failNode(peek(), strCat("expected ')' to close the arguments of ", n->name,
                                         ", got end of statement"));
        }
        arg.value = additive();
        if (!arg.value) return nullptr;
        n->args.push_back(std::move(arg));
        if (peek().kind == Tok::kComma) {
          next();
          continue;
        }
        break;
      }
    }
    if (peek().kind != Tok::kRParen) {
      return failNode(peek(), strCat("expected ',' or ')' in the arguments of ", n->name, ", got ",
                                     describe(peek())));
    }
    next();
    if (!keys(*n)) return nullptr;
    return n;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  bool failed_ = false;
  Error error_;
};

}  // namespace

bool parseStatementAst(std::string_view text, StatementAst& out, Error& error) {
  std::vector<Token> tokens;
  if (!tokenize(text, tokens, error)) return false;
  Parser parser(std::move(tokens));
  if (parser.statement(out)) return true;
  error = parser.error();
  return false;
}

bool parseConditionAst(std::string_view text, NodePtr& out, Error& error) {
  std::vector<Token> tokens;
  if (!tokenize(text, tokens, error)) return false;
  Parser parser(std::move(tokens));
  if (parser.condition(out)) return true;
  error = parser.error();
  return false;
}

}  // namespace otlpd::ottl
