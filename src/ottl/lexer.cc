#include "ottl/lexer.h"

#include <cctype>

#include "common/strings.h"

namespace otlpd::ottl {

std::string Error::toString() const {
  return strCat("column ", column, ": ", message);
}

std::string toString(const std::vector<Error>& errors) {
  std::string out;
  for (const Error& e : errors) {
    if (!out.empty()) out += "; ";
    out += e.toString();
  }
  return out;
}

std::string_view tokenName(Tok kind) {
  switch (kind) {
    case Tok::kEnd:
      return "end of statement";
    case Tok::kIdent:
      return "identifier";
    case Tok::kString:
      return "string";
    case Tok::kInt:
      return "integer";
    case Tok::kFloat:
      return "float";
    case Tok::kBytes:
      return "bytes";
    case Tok::kLParen:
      return "'('";
    case Tok::kRParen:
      return "')'";
    case Tok::kLBracket:
      return "'['";
    case Tok::kRBracket:
      return "']'";
    case Tok::kLBrace:
      return "'{'";
    case Tok::kRBrace:
      return "'}'";
    case Tok::kComma:
      return "','";
    case Tok::kDot:
      return "'.'";
    case Tok::kColon:
      return "':'";
    case Tok::kAssign:
      return "'='";
    case Tok::kEq:
      return "'=='";
    case Tok::kNe:
      return "'!='";
    case Tok::kLt:
      return "'<'";
    case Tok::kLe:
      return "'<='";
    case Tok::kGt:
      return "'>'";
    case Tok::kGe:
      return "'>='";
    case Tok::kPlus:
      return "'+'";
    case Tok::kMinus:
      return "'-'";
    case Tok::kStar:
      return "'*'";
    case Tok::kSlash:
      return "'/'";
  }
  return "?";
}

namespace {

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void appendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool isIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

bool tokenize(std::string_view text, std::vector<Token>& tokens, Error& error) {
  tokens.clear();
  size_t i = 0;
  const size_t n = text.size();
  auto fail = [&](size_t at, std::string message) {
    error.column = static_cast<int>(at) + 1;
    error.message = std::move(message);
    return false;
  };
  while (true) {
    while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    Token t;
    t.column = static_cast<int>(i) + 1;
    if (i == n) {
      t.kind = Tok::kEnd;
      tokens.push_back(std::move(t));
      return true;
    }
    const char c = text[i];
    if (c == '"') {
      const size_t start = i++;
      std::string s;
      bool closed = false;
      while (i < n) {
        char d = text[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d != '\\') {
          s += d;
          ++i;
          continue;
        }
        if (i + 1 >= n) break;
        const char e = text[i + 1];
        const size_t escape_at = i;
        i += 2;
        switch (e) {
          case 'a':
            s += '\a';
            break;
          case 'b':
            s += '\b';
            break;
          case 'f':
            s += '\f';
            break;
          case 'n':
            s += '\n';
            break;
          case 'r':
            s += '\r';
            break;
          case 't':
            s += '\t';
            break;
          case 'v':
            s += '\v';
            break;
          case '\\':
            s += '\\';
            break;
          case '"':
            s += '"';
            break;
          case '\'':
            s += '\'';
            break;
          case 'x':
          case 'u':
          case 'U': {
            const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            uint32_t cp = 0;
            for (size_t k = 0; k < digits; ++k) {
              const int h = i + k < n ? hexDigit(text[i + k]) : -1;
              if (h < 0) {
                return fail(escape_at, strCat("invalid escape \\", std::string(1, e), ": expected ",
                                              digits, " hex digits"));
              }
              cp = cp * 16 + static_cast<uint32_t>(h);
            }
            i += digits;
            if (e == 'x') {
              s += static_cast<char>(cp);
            } else if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
              return fail(escape_at, "invalid Unicode code point in escape");
            } else {
              appendUtf8(cp, s);
            }
            break;
          }
          default:
            if (e >= '0' && e <= '7') {
              uint32_t v = static_cast<uint32_t>(e - '0');
              for (int k = 0; k < 2; ++k) {
                if (i >= n || text[i] < '0' || text[i] > '7') {
                  return fail(escape_at, "invalid octal escape: expected 3 octal digits");
                }
                v = v * 8 + static_cast<uint32_t>(text[i++] - '0');
              }
              if (v > 255) return fail(escape_at, "octal escape value above 255");
              s += static_cast<char>(v);
              break;
            }
            return fail(escape_at, strCat("unknown escape sequence \\", std::string(1, e)));
        }
      }
      if (!closed) return fail(start, "unterminated string (missing closing \")");
      t.kind = Tok::kString;
      t.text = std::move(s);
    } else if (c == '0' && i + 1 < n && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
      const size_t start = i;
      i += 2;
      std::string hex;
      while (i < n && isIdentChar(text[i])) hex += text[i++];
      if (hex.empty()) return fail(start, "empty bytes literal (0x needs hex digits)");
      if (hex.size() % 2 != 0) {
        return fail(start, "bytes literal needs an even number of hex digits");
      }
      std::string bytes;
      for (size_t k = 0; k < hex.size(); k += 2) {
        const int hi = hexDigit(hex[k]), lo = hexDigit(hex[k + 1]);
        if (hi < 0 || lo < 0) return fail(start, strCat("invalid bytes literal 0x", hex));
        bytes += static_cast<char>(hi * 16 + lo);
      }
      t.kind = Tok::kBytes;
      t.text = std::move(bytes);
    } else if (isDigit(c) || (c == '.' && i + 1 < n && isDigit(text[i + 1]))) {
      const size_t start = i;
      bool is_float = false;
      while (i < n && isDigit(text[i])) ++i;
      if (i < n && text[i] == '.') {
        is_float = true;
        ++i;
        while (i < n && isDigit(text[i])) ++i;
      }
      if (i < n && (text[i] == 'e' || text[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (text[j] == '+' || text[j] == '-')) ++j;
        if (j < n && isDigit(text[j])) {
          is_float = true;
          i = j;
          while (i < n && isDigit(text[i])) ++i;
        }
      }
      if (i < n && isIdentStart(text[i])) {
        return fail(start, strCat("invalid number '", text.substr(start, i + 1 - start), "'"));
      }
      t.kind = is_float ? Tok::kFloat : Tok::kInt;
      t.text = std::string(text.substr(start, i - start));
    } else if (isIdentStart(c)) {
      const size_t start = i;
      while (i < n && isIdentChar(text[i])) ++i;
      t.kind = Tok::kIdent;
      t.text = std::string(text.substr(start, i - start));
    } else {
      auto two = [&](char next) { return i + 1 < n && text[i + 1] == next; };
      switch (c) {
        case '(':
          t.kind = Tok::kLParen;
          break;
        case ')':
          t.kind = Tok::kRParen;
          break;
        case '[':
          t.kind = Tok::kLBracket;
          break;
        case ']':
          t.kind = Tok::kRBracket;
          break;
        case '{':
          t.kind = Tok::kLBrace;
          break;
        case '}':
          t.kind = Tok::kRBrace;
          break;
        case ',':
          t.kind = Tok::kComma;
          break;
        case '.':
          t.kind = Tok::kDot;
          break;
        case ':':
          t.kind = Tok::kColon;
          break;
        case '+':
          t.kind = Tok::kPlus;
          break;
        case '-':
          t.kind = Tok::kMinus;
          break;
        case '*':
          t.kind = Tok::kStar;
          break;
        case '/':
          t.kind = Tok::kSlash;
          break;
        case '=':
          t.kind = two('=') ? Tok::kEq : Tok::kAssign;
          break;
        case '!':
          if (!two('=')) return fail(i, "unexpected '!' (use 'not' or '!=')");
          t.kind = Tok::kNe;
          break;
        case '<':
          t.kind = two('=') ? Tok::kLe : Tok::kLt;
          break;
        case '>':
          t.kind = two('=') ? Tok::kGe : Tok::kGt;
          break;
        case '\'':
          return fail(i, "strings are written in double quotes");
        default:
          return fail(i, strCat("unexpected character '", std::string(1, c), "'"));
      }
      i += (t.kind == Tok::kEq || t.kind == Tok::kNe || t.kind == Tok::kLe || t.kind == Tok::kGe)
               ? 2
               : 1;
    }
    tokens.push_back(std::move(t));
  }
}

}  // namespace otlpd::ottl
