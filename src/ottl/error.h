// An OTTL parse or check error: what is wrong and where inside the statement.
#pragma once

#include <string>
#include <vector>

namespace otlpd::ottl {

struct Error {
  int column = 1;  // 1-based byte column inside the statement
  std::string message;

  // "column 12: unknown function \"Foo\""
  std::string toString() const;
  friend bool operator==(const Error&, const Error&) = default;
};

// All errors, "; "-separated.
std::string toString(const std::vector<Error>& errors);

}  // namespace otlpd::ottl
