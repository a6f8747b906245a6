// The OTTL grammar: `editor(args) where condition` statements and bare conditions (the filter
// processor's). Syntax only: paths and function names are resolved by the checker. Pure.
#pragma once

#include <string_view>

#include "ottl/ast.h"
#include "ottl/error.h"

namespace otlpd::ottl {

// False with `error` set when the text is not a statement.
bool parseStatementAst(std::string_view text, StatementAst& out, Error& error);
bool parseConditionAst(std::string_view text, NodePtr& out, Error& error);

}  // namespace otlpd::ottl
