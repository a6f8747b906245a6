// OTTL parse and check errors: each case names the statement and the exact error (golden).
#include "ottl/parser.h"

#include <gtest/gtest.h>

#include "ottl/ottl.h"

namespace otlpd::ottl {
namespace {

std::string statementErrors(const std::string& text, Context context = Context::kSpan) {
  return toString(parseStatement(text, context).errors);
}
std::string conditionErrors(const std::string& text, Context context = Context::kSpan) {
  return toString(parseCondition(text, context).errors);
}

TEST(OttlParser, ValidStatementsAndConditions) {
  for (
      const char* s : {
          R"(set(attributes["a"], "b"))",
          R"(set(span.attributes["a"]["b"][0], 1) where name == "x")",
          R"(set(name, Concat([name, "-", String(kind)], "")) where kind == SPAN_KIND_SERVER and not (status.code == STATUS_CODE_OK or IsMatch(name, "^GET")))",
          R"(replace_pattern(attributes["url"], "token=[^&]*", "token=***", SHA256, "t:%s"))",
          R"(replace_pattern(attributes["url"], regex = "a", replacement = "b"))",
          R"(set(attributes["d"], end_time_unix_nano - start_time_unix_nano) where end_time - start_time > Duration("1s"))",
          R"(set(attributes["x"], -1.5e3))",
          R"(set(attributes["x"], 0xdeadBEEF))",
          R"(set(attributes["x"], nil))",
          R"(keep_keys(attributes, []))",
          R"(set(cache["k"], Split(name, " ")[1]))",
          R"(set(resource.attributes["k"], "v") where resource.attributes["service.name"] != nil)",
      }) {
    const std::string context_text =
        std::string(s).find("resource.attributes[\"k\"], \"v\"") != std::string::npos ? "resource"
                                                                                      : "span";
    Compiled<Statement> c = parseStatement(s, *contextFromName(context_text));
    EXPECT_TRUE(c.ok()) << s << ": " << toString(c.errors);
  }
  EXPECT_EQ(conditionErrors(R"(attributes["http.route"] == "/health")"), "");
  EXPECT_EQ(conditionErrors(R"(IsMatch(name, ".*health.*") or kind == 2)"), "");
}

TEST(OttlParser, StringEscapes) {
  StatementAst ast;
  Error e;
  ASSERT_TRUE(parseStatementAst(R"(set(name, "a\"b\\c\n\t\x41\u00e9"))", ast, e)) << e.toString();
  EXPECT_EQ(ast.editor->args[1].value->literal.str(), "a\"b\\c\n\tA\xc3\xa9");
}

struct Golden {
  const char* text;
  const char* errors;
};

TEST(OttlParser, GoldenStatementErrors) {
  const Golden cases[] = {
      {R"(set(attributes["a"], "b")",
       "column 25: expected ',' or ')' in the arguments of set, got end of statement"},
      {R"(set(name, "abc))", "column 11: unterminated string (missing closing \")"},
      {R"(set(name, "a\qb"))", "column 13: unknown escape sequence \\q"},
      {R"(set(name, 'x'))", "column 11: strings are written in double quotes"},
      {R"(set(name, 0xabc))", "column 11: bytes literal needs an even number of hex digits"},
      {R"(foo(name))", "column 1: editor foo is not supported"},
      {R"(set(name, Foo(1)))", "column 11: converter Foo is not supported"},
      {R"(Concat(["a"], ""))", "column 1: a statement must call an editor; Concat is a converter"},
      {R"(set(name))", "column 1: set is missing its argument value"},
      {R"(set(name, "a", "b"))", "column 16: set takes 2 arguments, got 3"},
      {R"(set(nme, "a"))", "column 5: unknown path nme in the span context"},
      {R"(set(span.events, "a"))", "column 5: path span.events is not supported"},
      {R"(set(name, log.body))", "column 11: path log.body is not available in the span context"},
      {R"(set(resource.attributes["a"], "b"))",
       "column 5: cannot change resource.attributes in the span context; use a statement in the "
       "resource context"},
      {R"(set(name["a"], "b"))", "column 10: path name cannot be indexed (it is not a map)"},
      {R"(replace_pattern(name, "(", "x"))",
       "column 23: invalid regex \"(\" in replace_pattern: missing ): ("},
      {R"(replace_pattern(name, name, "x"))",
       "column 23: argument regex of replace_pattern must be a string literal (a regular "
       "expression)"},
      {R"(set(name, "x") where name)",
       "column 22: expected a condition: a comparison, true/false, or a converter returning a "
       "boolean"},
      {R"(set(name, "x") where kind == SPAN_KIND_SERVERR)",
       "column 30: unknown enum SPAN_KIND_SERVERR in the span context"},
      {R"(set(name, "x") where kind == SEVERITY_NUMBER_WARN)",
       "column 30: unknown enum SEVERITY_NUMBER_WARN in the span context"},
      {R"(set(name, {"a": 1}))", "column 11: map literals ({...}) are not supported"},
      {R"(set(name, ConvertCase(name, "kebab")))",
       "column 29: invalid case \"kebab\" for ConvertCase: use lower, upper, snake or camel"},
      {R"q(set(attributes["x"], ExtractPatterns(name, "(a)")))q",
       "column 44: ExtractPatterns needs at least one named capture group (?P<name>...)"},
      {R"(delete_key(name, "a"))",
       "column 12: argument target of delete_key must be a map (attributes, body, cache), got "
       "name"},
      {R"(keep_keys(attributes, ["a", name]))",
       "column 29: argument keys of keep_keys must be a list of string literals"},
      {R"(merge_maps(attributes, attributes, "replace"))",
       "column 36: invalid strategy \"replace\" for merge_maps: use insert, update or upsert"},
      {R"(limit(attributes, 1, ["a", "b"]))",
       "column 22: number of priority keys (2) is greater than the limit (1)"},
      {R"(replace_pattern(name, "a", "b", MD5))",
       "column 33: argument function of replace_pattern must name a hash converter (supported: "
       "SHA256)"},
      {R"(replace_pattern(name, "a", "b", SHA256, "no-verb"))",
       "column 41: replacement_format must contain exactly one %s"},
      {R"(set(name, "x") where)", "column 16: 'where' needs a condition after it"},
      {R"(set(name, "x") where name == "a" == "b")",
       "column 34: comparisons cannot be chained; join them with 'and'"},
      {R"(set(name, "x") where name = "a")",
       "column 27: '=' assigns only named arguments; compare with '=='"},
      {R"(set(name, "x") extra)", "column 16: unexpected 'extra' after the end"},
      {R"(set(value = "a", name))", "column 18: positional arguments must come before named ones"},
      {R"(set(target = name, valeu = "a"))",
       "column 1: set is missing its argument value; column 20: set has no parameter named valeu"},
      {R"(set(name, 1 + 2.5))", "column 13: cannot mix int and double in math"},
      {R"(set(attributes[attributes["k"]], 1))",
       "column 16: keys computed from expressions are not supported; use a string or int"},
      // Several problems in one statement are all reported, in column order.
      {R"(set(nme, Foo(1)) where kind == NOPE)",
       "column 5: unknown path nme in the span context; column 10: converter Foo is not "
       "supported; column 32: unknown enum NOPE in the span context"},
  };
  for (const Golden& g : cases) EXPECT_EQ(statementErrors(g.text), g.errors) << g.text;
}

TEST(OttlParser, GoldenConditionErrors) {
  EXPECT_EQ(conditionErrors(""), "column 1: empty condition");
  EXPECT_EQ(conditionErrors(R"(attributes["a"])"),
            "column 1: expected a condition: a comparison, true/false, or a converter returning a "
            "boolean");
  EXPECT_EQ(conditionErrors(R"(name == "a" where true)"),
            "column 13: unexpected 'where' (a condition has no 'where')");
  EXPECT_EQ(conditionErrors(R"(Len(name) and true)"),
            "column 1: Len returns a int, not a boolean; compare it");
  EXPECT_EQ(conditionErrors(R"((name == "a")"),
            "column 13: expected ')' to close '(', got end of statement");
  EXPECT_EQ(conditionErrors(R"(set(name, "a") == true)"),
            "column 1: editor set cannot be used as a value (converters are upper-case)");
  EXPECT_EQ(conditionErrors(R"(metric.name == "a")", Context::kDataPoint), "");
  EXPECT_EQ(conditionErrors(R"(datapoint.value_int > 1)", Context::kMetric),
            "column 1: path datapoint.value_int is not available in the metric context");
}

// Nesting is bounded so that no text can overflow the parser's stack (the ottl fuzz target found
// one with a few thousand parentheses).
TEST(OttlParser, DeepNestingIsAnErrorNotAStackOverflow) {
  const std::string deep = std::string(5000, '(') + "true" + std::string(5000, ')');
  EXPECT_NE(conditionErrors(deep).find("nested too deeply"), std::string::npos);
  EXPECT_NE(conditionErrors(std::string(5000, '-') + "1 == 1").find("nested too deeply"),
            std::string::npos);
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_NE(conditionErrors(nots + "true").find("nested too deeply"), std::string::npos);
  std::string calls = "set(name, ";
  for (int i = 0; i < 3000; ++i) calls += "Concat([";
  calls += "\"x\"";
  for (int i = 0; i < 3000; ++i) calls += "], \"\")";
  EXPECT_NE(statementErrors(calls + ")").find("nested too deeply"), std::string::npos);
  // Ordinary depth is fine.
  EXPECT_EQ(conditionErrors(std::string(40, '(') + "true" + std::string(40, ')')), "");
}

TEST(OttlParser, InferContext) {
  using pipeline::Signal;
  EXPECT_EQ(*inferContext(R"(set(span.name, resource.attributes["a"]))", Signal::kTraces, false),
            Context::kSpan);
  EXPECT_EQ(*inferContext(R"(set(resource.attributes["a"], "b"))", Signal::kTraces, false),
            Context::kResource);
  EXPECT_EQ(*inferContext(R"(spanevent.name == "x" and span.name == "y")", Signal::kTraces, true),
            Context::kSpanEvent);
  EXPECT_EQ(*inferContext(R"(set(log.body, "x"))", Signal::kLogs, false), Context::kLog);
  EXPECT_EQ(
      *inferContext(R"(set(datapoint.attributes["a"], metric.name))", Signal::kMetrics, false),
      Context::kDataPoint);
  EXPECT_EQ(inferContext(R"(set(attributes["a"], "b"))", Signal::kTraces, false).status().message(),
            "column 1: cannot infer the context: prefix paths with their context (resource, scope, "
            "span, spanevent), e.g. span.attributes[\"key\"]");
  EXPECT_EQ(inferContext(R"(set(log.body, "b"))", Signal::kTraces, false).status().message(),
            "column 5: path prefix 'log' does not belong to traces");
}

}  // namespace
}  // namespace otlpd::ottl
