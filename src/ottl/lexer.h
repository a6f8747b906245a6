// OTTL tokens. Columns are 1-based byte offsets into the statement, so an error can point inside
// it (the config reports the YAML line:column of the statement string plus this column). Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ottl/error.h"

namespace otlpd::ottl {

enum class Tok : uint8_t {
  kEnd,
  kIdent,   // lower- or upper-case identifier, keywords included (where, and, or, not, ...)
  kString,  // text holds the unescaped content
  kInt,
  kFloat,
  kBytes,  // text holds the decoded bytes
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kComma,
  kDot,
  kColon,
  kAssign,  // =
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kStar,
  kSlash,
};

struct Token {
  Tok kind = Tok::kEnd;
  int column = 1;
  std::string text;  // identifier, unescaped string, decoded bytes, or the number as written
};

std::string_view tokenName(Tok kind);

// Splits `text` into tokens ending with kEnd. On a lexical error (unterminated string, bad escape,
// odd-length bytes literal, unexpected character) returns false with `error` set.
bool tokenize(std::string_view text, std::vector<Token>& tokens, Error& error);

}  // namespace otlpd::ottl
