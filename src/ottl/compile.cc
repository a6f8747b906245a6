// The checker: resolves an AST's paths against its context (to Fields), its functions against the
// supported subset (arguments bound by position or name, literals validated, regexes compiled),
// and checks that conditions are boolean. Every problem becomes an Error with its column.
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "absl/strings/str_join.h"
#include "common/strings.h"
#include "ottl/ottl.h"
#include "ottl/parser.h"

namespace otlpd::ottl {

std::string_view contextName(Context context) {
  switch (context) {
    case Context::kResource:
      return "resource";
    case Context::kScope:
      return "scope";
    case Context::kSpan:
      return "span";
    case Context::kSpanEvent:
      return "spanevent";
    case Context::kLog:
      return "log";
    case Context::kMetric:
      return "metric";
    case Context::kDataPoint:
      return "datapoint";
  }
  return "?";
}

std::optional<Context> contextFromName(std::string_view name) {
  if (name == "resource") return Context::kResource;
  if (name == "scope" || name == "instrumentation_scope") return Context::kScope;
  if (name == "span") return Context::kSpan;
  if (name == "spanevent") return Context::kSpanEvent;
  if (name == "log") return Context::kLog;
  if (name == "metric") return Context::kMetric;
  if (name == "datapoint") return Context::kDataPoint;
  return std::nullopt;
}

std::vector<Context> contextsOf(pipeline::Signal signal) {
  switch (signal) {
    case pipeline::Signal::kTraces:
      return {Context::kResource, Context::kScope, Context::kSpan, Context::kSpanEvent};
    case pipeline::Signal::kMetrics:
      return {Context::kResource, Context::kScope, Context::kMetric, Context::kDataPoint};
    case pipeline::Signal::kLogs:
      return {Context::kResource, Context::kScope, Context::kLog};
  }
  return {};
}

namespace {

// The contexts whose paths a statement in `context` can read: itself and its ancestors.
bool reachable(Context from, Context target) {
  if (target == from || target == Context::kResource) return true;
  if (target == Context::kScope) return from != Context::kResource;
  if (target == Context::kSpan) return from == Context::kSpanEvent;
  if (target == Context::kMetric) return from == Context::kDataPoint;
  return false;
}

struct FieldEntry {
  std::string_view path;
  FieldKind kind;
  uint32_t number = 0;
  uint8_t size = 0;
};

const std::vector<FieldEntry>& fieldsOf(Context level) {
  using K = FieldKind;
  static const std::vector<FieldEntry> resource = {
      {"attributes", K::kAttributes, 1},
      {"dropped_attributes_count", K::kInt, 2},
  };
  static const std::vector<FieldEntry> scope = {
      {"name", K::kString, 1},
      {"version", K::kString, 2},
      {"attributes", K::kAttributes, 3},
      {"dropped_attributes_count", K::kInt, 4},
  };
  static const std::vector<FieldEntry> span = {
      {"trace_id", K::kId, 1, 16},
      {"trace_id.string", K::kIdString, 1, 16},
      {"span_id", K::kId, 2, 8},
      {"span_id.string", K::kIdString, 2, 8},
      {"trace_state", K::kString, 3},
      {"parent_span_id", K::kId, 4, 8},
      {"parent_span_id.string", K::kIdString, 4, 8},
      {"name", K::kString, 5},
      {"kind", K::kInt, 6},
      {"start_time_unix_nano", K::kFixed64, 7},
      {"end_time_unix_nano", K::kFixed64, 8},
      {"start_time", K::kTime, 7},
      {"end_time", K::kTime, 8},
      {"attributes", K::kAttributes, 9},
      {"dropped_attributes_count", K::kInt, 10},
      {"dropped_events_count", K::kInt, 12},
      {"dropped_links_count", K::kInt, 14},
      {"status.code", K::kStatusCode, 15},
      {"status.message", K::kStatusMessage, 15},
      {"flags", K::kFlags, 16},
  };
  static const std::vector<FieldEntry> event = {
      {"time_unix_nano", K::kFixed64, 1},
      {"time", K::kTime, 1},
      {"name", K::kString, 2},
      {"attributes", K::kAttributes, 3},
      {"dropped_attributes_count", K::kInt, 4},
  };
  static const std::vector<FieldEntry> log = {
      {"time_unix_nano", K::kFixed64, 1},
      {"time", K::kTime, 1},
      {"severity_number", K::kInt, 2},
      {"severity_text", K::kString, 3},
      {"body", K::kBody, 5},
      {"attributes", K::kAttributes, 6},
      {"dropped_attributes_count", K::kInt, 7},
      {"flags", K::kFlags, 8},
      {"trace_id", K::kId, 9, 16},
      {"trace_id.string", K::kIdString, 9, 16},
      {"span_id", K::kId, 10, 8},
      {"span_id.string", K::kIdString, 10, 8},
      {"observed_time_unix_nano", K::kFixed64, 11},
      {"observed_time", K::kTime, 11},
      {"event_name", K::kString, 12},
  };
  static const std::vector<FieldEntry> metric = {
      {"name", K::kString, 1},
      {"description", K::kString, 2},
      {"unit", K::kString, 3},
      {"type", K::kMetricType},
      {"aggregation_temporality", K::kAggregationTemporality},
      {"is_monotonic", K::kIsMonotonic},
  };
  static const std::vector<FieldEntry> datapoint = {
      {"attributes", K::kAttributes},
      {"start_time_unix_nano", K::kFixed64, 2},
      {"time_unix_nano", K::kFixed64, 3},
      {"start_time", K::kTime, 2},
      {"time", K::kTime, 3},
      {"value_int", K::kValueInt, 6},
      {"value_double", K::kValueDouble, 4},
      {"count", K::kPointCount, 4},
      {"sum", K::kPointSum, 5},
      {"flags", K::kFlags},
  };
  switch (level) {
    case Context::kResource:
      return resource;
    case Context::kScope:
      return scope;
    case Context::kSpan:
      return span;
    case Context::kSpanEvent:
      return event;
    case Context::kLog:
      return log;
    case Context::kMetric:
      return metric;
    case Context::kDataPoint:
      return datapoint;
  }
  return resource;
}

// Paths the Collector has that this subset does not: named so the error says "not supported"
// rather than "unknown".
bool knownButUnsupported(Context level, std::string_view path) {
  static const std::set<std::pair<int, std::string_view>> paths = {
      {static_cast<int>(Context::kSpan), "events"},
      {static_cast<int>(Context::kSpan), "links"},
      {static_cast<int>(Context::kSpan), "status"},
      {static_cast<int>(Context::kSpan), "kind.string"},
      {static_cast<int>(Context::kSpan), "kind.deprecated_string"},
      {static_cast<int>(Context::kSpanEvent), "event_index"},
      {static_cast<int>(Context::kLog), "body.string"},
      {static_cast<int>(Context::kLog), "severity_number.string"},
      {static_cast<int>(Context::kMetric), "data_points"},
      {static_cast<int>(Context::kMetric), "metadata"},
      {static_cast<int>(Context::kDataPoint), "exemplars"},
      {static_cast<int>(Context::kDataPoint), "bucket_counts"},
      {static_cast<int>(Context::kDataPoint), "explicit_bounds"},
      {static_cast<int>(Context::kDataPoint), "scale"},
      {static_cast<int>(Context::kDataPoint), "zero_count"},
      {static_cast<int>(Context::kDataPoint), "positive"},
      {static_cast<int>(Context::kDataPoint), "negative"},
      {static_cast<int>(Context::kDataPoint), "quantile_values"},
      {static_cast<int>(Context::kResource), "schema_url"},
      {static_cast<int>(Context::kScope), "schema_url"},
  };
  if (paths.count({static_cast<int>(level), path}) != 0) return true;
  return path.rfind("positive.", 0) == 0 || path.rfind("negative.", 0) == 0;
}

struct EnumEntry {
  std::string_view name;
  int64_t value;
};

const std::vector<EnumEntry>& spanEnums() {
  static const std::vector<EnumEntry> e = {
      {"SPAN_KIND_UNSPECIFIED", 0}, {"SPAN_KIND_INTERNAL", 1}, {"SPAN_KIND_SERVER", 2},
      {"SPAN_KIND_CLIENT", 3},      {"SPAN_KIND_PRODUCER", 4}, {"SPAN_KIND_CONSUMER", 5},
      {"STATUS_CODE_UNSET", 0},     {"STATUS_CODE_OK", 1},     {"STATUS_CODE_ERROR", 2},
  };
  return e;
}
const std::vector<EnumEntry>& logEnums() {
  static const std::vector<EnumEntry> e = {
      {"SEVERITY_NUMBER_UNSPECIFIED", 0}, {"SEVERITY_NUMBER_TRACE", 1},
      {"SEVERITY_NUMBER_TRACE2", 2},      {"SEVERITY_NUMBER_TRACE3", 3},
      {"SEVERITY_NUMBER_TRACE4", 4},      {"SEVERITY_NUMBER_DEBUG", 5},
      {"SEVERITY_NUMBER_DEBUG2", 6},      {"SEVERITY_NUMBER_DEBUG3", 7},
      {"SEVERITY_NUMBER_DEBUG4", 8},      {"SEVERITY_NUMBER_INFO", 9},
      {"SEVERITY_NUMBER_INFO2", 10},      {"SEVERITY_NUMBER_INFO3", 11},
      {"SEVERITY_NUMBER_INFO4", 12},      {"SEVERITY_NUMBER_WARN", 13},
      {"SEVERITY_NUMBER_WARN2", 14},      {"SEVERITY_NUMBER_WARN3", 15},
      {"SEVERITY_NUMBER_WARN4", 16},      {"SEVERITY_NUMBER_ERROR", 17},
      {"SEVERITY_NUMBER_ERROR2", 18},     {"SEVERITY_NUMBER_ERROR3", 19},
      {"SEVERITY_NUMBER_ERROR4", 20},     {"SEVERITY_NUMBER_FATAL", 21},
      {"SEVERITY_NUMBER_FATAL2", 22},     {"SEVERITY_NUMBER_FATAL3", 23},
      {"SEVERITY_NUMBER_FATAL4", 24},
  };
  return e;
}
const std::vector<EnumEntry>& metricEnums() {
  static const std::vector<EnumEntry> e = {
      {"AGGREGATION_TEMPORALITY_UNSPECIFIED", 0},
      {"AGGREGATION_TEMPORALITY_DELTA", 1},
      {"AGGREGATION_TEMPORALITY_CUMULATIVE", 2},
      {"METRIC_DATA_TYPE_NONE", 0},
      {"METRIC_DATA_TYPE_GAUGE", 1},
      {"METRIC_DATA_TYPE_SUM", 2},
      {"METRIC_DATA_TYPE_HISTOGRAM", 3},
      {"METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM", 4},
      {"METRIC_DATA_TYPE_SUMMARY", 5},
      {"FLAG_NONE", 0},
      {"FLAG_NO_RECORDED_VALUE", 1},
  };
  return e;
}

std::optional<int64_t> findEnum(Context context, std::string_view name) {
  const std::vector<EnumEntry>* table = nullptr;
  switch (context) {
    case Context::kSpan:
    case Context::kSpanEvent:
      table = &spanEnums();
      break;
    case Context::kLog:
      table = &logEnums();
      break;
    case Context::kMetric:
    case Context::kDataPoint:
      table = &metricEnums();
      break;
    default:
      return std::nullopt;
  }
  for (const EnumEntry& e : *table) {
    if (e.name == name) return e.value;
  }
  return std::nullopt;
}

bool isMapKind(FieldKind kind) {
  return kind == FieldKind::kAttributes || kind == FieldKind::kBody || kind == FieldKind::kCache;
}

Type staticTypeOf(FieldKind kind) {
  switch (kind) {
    case FieldKind::kAttributes:
    case FieldKind::kCache:
      return Type::kMap;
    case FieldKind::kString:
    case FieldKind::kIdString:
    case FieldKind::kStatusMessage:
      return Type::kString;
    case FieldKind::kInt:
    case FieldKind::kFlags:
    case FieldKind::kFixed64:
    case FieldKind::kStatusCode:
    case FieldKind::kMetricType:
    case FieldKind::kAggregationTemporality:
    case FieldKind::kValueInt:
    case FieldKind::kPointCount:
      return Type::kInt;
    case FieldKind::kTime:
      return Type::kTime;
    case FieldKind::kId:
      return Type::kBytes;
    case FieldKind::kBody:
      return Type::kAny;
    case FieldKind::kIsMonotonic:
      return Type::kBool;
    case FieldKind::kValueDouble:
    case FieldKind::kPointSum:
      return Type::kDouble;
  }
  return Type::kAny;
}

std::string pathText(const Node& n) {
  return absl::StrJoin(n.segments, ".");
}

// filepath.Match-style globs: * ? [...] and \ escapes. False when the pattern is malformed.
bool validGlob(std::string_view p) {
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      if (++i >= p.size()) return false;
    } else if (p[i] == '[') {
      size_t j = i + 1;
      if (j < p.size() && (p[j] == '^' || p[j] == '!')) ++j;
      if (j < p.size() && p[j] == ']') ++j;
      while (j < p.size() && p[j] != ']') ++j;
      if (j >= p.size()) return false;
      i = j;
    }
  }
  return true;
}

}  // namespace

struct Compiler {
  Context context;
  std::vector<Error> errors;

  void error(int column, std::string message) { errors.push_back({column, std::move(message)}); }

  static ExprPtr make(Expr::Kind kind, int column, Type type = Type::kAny) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->column = column;
    e->type = type;
    return e;
  }

  bool keys(const std::vector<PathKey>& in, std::vector<IndexKey>& out) {
    bool ok = true;
    for (const PathKey& k : in) {
      if (k.expr) {
        error(k.column, "keys computed from expressions are not supported; use a string or int");
        ok = false;
        continue;
      }
      out.push_back({k.is_int, k.str, k.index});
    }
    return ok;
  }

  ExprPtr path(const Node& n, bool write) {
    std::vector<std::string_view> segs(n.segments.begin(), n.segments.end());
    Context level = context;
    size_t first = 0;
    if (std::optional<Context> named = contextFromName(segs[0])) {
      level = *named;
      first = 1;
      if (segs.size() == 1) {
        error(n.column, strCat("'", segs[0], "' alone is not a value; name a field such as ",
                               segs[0], level == Context::kResource ? ".attributes" : ".name"));
        return nullptr;
      }
      if (!reachable(context, level)) {
        error(n.column, strCat("path ", pathText(n), " is not available in the ",
                               contextName(context), " context"));
        return nullptr;
      }
    }
    std::string rest;
    for (size_t i = first; i < segs.size(); ++i) {
      if (!rest.empty()) rest += '.';
      rest += segs[i];
    }
    ExprPtr e = make(Expr::Kind::kPath, n.column);
    if (rest == "cache") {
      if (level != context) {
        error(n.column,
              strCat("cache belongs to the statement's own context (", contextName(context), ")"));
        return nullptr;
      }
      e->field = Field{context, FieldKind::kCache, 0, 0};
    } else {
      const FieldEntry* found = nullptr;
      for (const FieldEntry& f : fieldsOf(level)) {
        if (f.path == rest) found = &f;
      }
      if (found == nullptr) {
        if (knownButUnsupported(level, rest)) {
          error(n.column, strCat("path ", pathText(n), " is not supported"));
        } else {
          error(n.column,
                strCat("unknown path ", pathText(n), " in the ", contextName(context), " context"));
        }
        return nullptr;
      }
      e->field = Field{level, found->kind, found->number, found->size};
    }
    if (!keys(n.keys, e->keys)) return nullptr;
    if (!e->keys.empty() && !isMapKind(e->field.kind)) {
      error(n.keys.front().column,
            strCat("path ", pathText(n), " cannot be indexed (it is not a map)"));
      return nullptr;
    }
    if (e->field.kind == FieldKind::kAttributes && !e->keys.empty() && e->keys[0].is_int) {
      error(n.keys.front().column, "attributes are indexed by string keys");
      return nullptr;
    }
    e->type = e->keys.empty() ? staticTypeOf(e->field.kind) : Type::kAny;
    if (write) {
      if (e->field.level != context) {
        error(n.column,
              strCat("cannot change ", pathText(n), " in the ", contextName(context),
                     " context; use a statement in the ", contextName(e->field.level), " context"));
        return nullptr;
      }
      if (e->field.kind == FieldKind::kMetricType) {
        error(n.column, strCat("path ", pathText(n), " cannot be set"));
        return nullptr;
      }
    }
    return e;
  }

  ExprPtr value(const Node& n) {
    switch (n.kind) {
      case NodeKind::kLiteral: {
        ExprPtr e = make(Expr::Kind::kConst, n.column, n.literal.type());
        e->constant = n.literal;
        return e;
      }
      case NodeKind::kPath:
        return path(n, false);
      case NodeKind::kCall:
        return call(n, false);
      case NodeKind::kSymbol: {
        if (std::optional<int64_t> v = findEnum(context, n.name)) {
          ExprPtr e = make(Expr::Kind::kConst, n.column, Type::kInt);
          e->constant = Value::ofInt(*v);
          return e;
        }
        if (findFunction(n.name) != nullptr) {
          error(n.column, strCat(n.name, " is a function: call it as ", n.name, "(...)"));
        } else {
          error(n.column,
                strCat("unknown enum ", n.name, " in the ", contextName(context), " context"));
        }
        return nullptr;
      }
      case NodeKind::kList: {
        ExprPtr e = make(Expr::Kind::kList, n.column, Type::kList);
        bool ok = true;
        for (const NodePtr& item : n.items) {
          ExprPtr c = value(*item);
          if (!c) ok = false;
          e->items.push_back(std::move(c));
        }
        return ok ? std::move(e) : nullptr;
      }
      case NodeKind::kMath: {
        ExprPtr l = value(*n.lhs);
        ExprPtr r = value(*n.rhs);
        if (!l || !r) return nullptr;
        ExprPtr e = make(Expr::Kind::kMath, n.column);
        e->math = n.math;
        e->type = mathType(n, l->type, r->type);
        if (e->type == Type::kNil) return nullptr;
        e->lhs = std::move(l);
        e->rhs = std::move(r);
        return e;
      }
      case NodeKind::kNegate: {
        ExprPtr operand = value(*n.lhs);
        if (!operand) return nullptr;
        const Type t = operand->type;
        if (t != Type::kInt && t != Type::kDouble && t != Type::kDuration && t != Type::kAny) {
          error(n.column, strCat("cannot negate a ", typeName(t)));
          return nullptr;
        }
        ExprPtr e = make(Expr::Kind::kNegate, n.column, t);
        e->lhs = std::move(operand);
        return e;
      }
      case NodeKind::kCompare:
      case NodeKind::kAnd:
      case NodeKind::kOr:
      case NodeKind::kNot:
        error(n.column, "a condition cannot be used as a value here");
        return nullptr;
    }
    return nullptr;
  }

  Type mathType(const Node& n, Type l, Type r) {
    auto numeric = [](Type t) {
      return t == Type::kInt || t == Type::kDouble || t == Type::kTime || t == Type::kDuration ||
             t == Type::kAny;
    };
    if (!numeric(l) || !numeric(r)) {
      error(n.column, strCat("math needs numbers, times or durations, got ", typeName(l), " and ",
                             typeName(r)));
      return Type::kNil;
    }
    if (l == Type::kAny || r == Type::kAny) return Type::kAny;
    const bool additive = n.math == MathOp::kAdd || n.math == MathOp::kSub;
    if ((l == Type::kTime || l == Type::kDuration || r == Type::kTime || r == Type::kDuration) &&
        !additive) {
      error(n.column, "times and durations can only be added and subtracted");
      return Type::kNil;
    }
    if (l == r) {
      if (l == Type::kTime) {
        if (n.math == MathOp::kSub) return Type::kDuration;
        error(n.column, "cannot add two times");
        return Type::kNil;
      }
      return l;
    }
    if ((l == Type::kTime && r == Type::kDuration) ||
        (l == Type::kDuration && r == Type::kTime && n.math == MathOp::kAdd)) {
      return Type::kTime;
    }
    error(n.column, strCat("cannot mix ", typeName(l), " and ", typeName(r), " in math"));
    return Type::kNil;
  }

  ExprPtr boolean(const Node& n) {
    switch (n.kind) {
      case NodeKind::kAnd:
      case NodeKind::kOr: {
        ExprPtr l = boolean(*n.lhs);
        ExprPtr r = boolean(*n.rhs);
        if (!l || !r) return nullptr;
        ExprPtr e = make(n.kind == NodeKind::kAnd ? Expr::Kind::kAnd : Expr::Kind::kOr, n.column,
                         Type::kBool);
        e->lhs = std::move(l);
        e->rhs = std::move(r);
        return e;
      }
      case NodeKind::kNot: {
        ExprPtr operand = boolean(*n.lhs);
        if (!operand) return nullptr;
        ExprPtr e = make(Expr::Kind::kNot, n.column, Type::kBool);
        e->lhs = std::move(operand);
        return e;
      }
      case NodeKind::kCompare: {
        ExprPtr l = value(*n.lhs);
        ExprPtr r = value(*n.rhs);
        if (!l || !r) return nullptr;
        ExprPtr e = make(Expr::Kind::kCompare, n.column, Type::kBool);
        e->compare = n.compare;
        e->lhs = std::move(l);
        e->rhs = std::move(r);
        return e;
      }
      case NodeKind::kLiteral:
        if (n.literal.type() == Type::kBool) return value(n);
        break;
      case NodeKind::kCall: {
        ExprPtr e = call(n, false);
        if (!e) return nullptr;
        if (e->type != Type::kBool && e->type != Type::kAny) {
          error(n.column,
                strCat(n.name, " returns a ", typeName(e->type), ", not a boolean; compare it"));
          return nullptr;
        }
        return e;
      }
      default:
        break;
    }
    error(n.column,
          "expected a condition: a comparison, true/false, or a converter returning a boolean");
    return nullptr;
  }

  // Compiles argument `n` for parameter `p` of `spec` into `out` (with e's regex etc.).
  bool argument(const FunctionSpec& spec, const ParamSpec& p, const Node& n, Expr& call,
                ExprPtr& out) {
    auto literal = [&](Type t, std::string_view what) -> bool {
      if (n.kind != NodeKind::kLiteral || n.literal.type() != t) {
        error(n.column, strCat("argument ", p.name, " of ", spec.name, " must be ", what));
        return false;
      }
      out = value(n);
      return out != nullptr;
    };
    switch (p.kind) {
      case Param::kSetter:
      case Param::kMapSetter: {
        if (n.kind != NodeKind::kPath) {
          error(n.column, strCat("argument ", p.name, " of ", spec.name,
                                 " must be a path to a telemetry field"));
          return false;
        }
        out = path(n, true);
        if (!out) return false;
        if (p.kind == Param::kMapSetter) {
          const bool map_ok =
              isMapKind(out->field.kind) && (out->type == Type::kMap || out->type == Type::kAny);
          if (!map_ok) {
            error(n.column, strCat("argument ", p.name, " of ", spec.name,
                                   " must be a map (attributes, body, cache), got ", pathText(n)));
            return false;
          }
        }
        return true;
      }
      case Param::kGetter:
        out = value(n);
        return out != nullptr;
      case Param::kString:
        return literal(Type::kString, "a string literal");
      case Param::kInt:
        return literal(Type::kInt, "an int literal");
      case Param::kBool:
        return literal(Type::kBool, "true or false");
      case Param::kStringList:
      case Param::kGetterList: {
        if (n.kind != NodeKind::kList) {
          error(n.column, strCat("argument ", p.name, " of ", spec.name, " must be a list [...]"));
          return false;
        }
        if (p.kind == Param::kStringList) {
          for (const NodePtr& item : n.items) {
            if (item->kind != NodeKind::kLiteral || item->literal.type() != Type::kString) {
              error(item->column, strCat("argument ", p.name, " of ", spec.name,
                                         " must be a list of string literals"));
              return false;
            }
          }
        }
        out = value(n);
        return out != nullptr;
      }
      case Param::kRegex: {
        if (!literal(Type::kString, "a string literal (a regular expression)")) return false;
        RE2::Options options;
        options.set_log_errors(false);
        auto re = std::make_shared<RE2>(std::string(out->constant.str()), options);
        if (!re->ok()) {
          error(n.column, strCat("invalid regex \"", out->constant.str(), "\" in ", spec.name, ": ",
                                 re->error()));
          return false;
        }
        call.regex = std::move(re);
        return true;
      }
      case Param::kGlob:
        if (!literal(Type::kString, "a string literal (a glob pattern)")) return false;
        if (!validGlob(out->constant.str())) {
          error(n.column, strCat("invalid glob pattern \"", out->constant.str(), "\""));
          return false;
        }
        return true;
      case Param::kFunction:
        if (n.kind != NodeKind::kSymbol || n.name != "SHA256") {
          error(n.column, strCat("argument ", p.name, " of ", spec.name,
                                 " must name a hash converter (supported: SHA256)"));
          return false;
        }
        call.has_hash_fn = true;
        call.hash_fn = FnId::kSha256;
        out = make(Expr::Kind::kConst, n.column, Type::kNil);
        return true;
    }
    return false;
  }

  ExprPtr call(const Node& n, bool editor_position) {
    const FunctionSpec* spec = findFunction(n.name);
    const bool lower = std::islower(static_cast<unsigned char>(n.name[0])) != 0;
    if (spec == nullptr) {
      error(n.column, strCat(lower ? "editor " : "converter ", n.name, " is not supported"));
      return nullptr;
    }
    if (spec->editor && !editor_position) {
      error(n.column,
            strCat("editor ", n.name, " cannot be used as a value (converters are upper-case)"));
      return nullptr;
    }
    if (!spec->editor && editor_position) {
      error(n.column, strCat("a statement must call an editor; ", n.name, " is a converter"));
      return nullptr;
    }
    ExprPtr e = make(Expr::Kind::kCall, n.column, spec->returns);
    e->fn = spec->id;
    // Bind arguments to parameters.
    std::vector<const Arg*> bound(spec->params.size(), nullptr);
    bool ok = true;
    size_t positional = 0;
    for (const Arg& a : n.args) {
      size_t index;
      if (a.name.empty()) {
        index = positional++;
        if (index >= spec->params.size()) {
          error(a.column, strCat(spec->name, " takes ", spec->params.size(), " argument",
                                 spec->params.size() == 1 ? "" : "s", ", got ", n.args.size()));
          return nullptr;
        }
      } else {
        auto it = std::find_if(spec->params.begin(), spec->params.end(), [&](const ParamSpec& p) {
          return p.name == a.name || (!p.alias.empty() && p.alias == a.name);
        });
        if (it == spec->params.end()) {
          error(a.column, strCat(spec->name, " has no parameter named ", a.name));
          ok = false;
          continue;
        }
        index = static_cast<size_t>(it - spec->params.begin());
        if (bound[index] != nullptr) {
          error(a.column, strCat("argument ", a.name, " of ", spec->name, " given twice"));
          ok = false;
          continue;
        }
      }
      bound[index] = &a;
    }
    e->args.resize(spec->params.size());
    for (size_t i = 0; i < spec->params.size(); ++i) {
      const ParamSpec& p = spec->params[i];
      if (bound[i] == nullptr) {
        if (!p.optional) {
          error(n.column, strCat(spec->name, " is missing its argument ", p.name));
          ok = false;
        }
        continue;
      }
      if (!argument(*spec, p, *bound[i]->value, *e, e->args[i])) ok = false;
    }
    if (!ok) return nullptr;
    if (!keys(n.keys, e->keys)) return nullptr;
    if (!e->keys.empty()) e->type = Type::kAny;
    if (!checkLiterals(n, *e)) return nullptr;
    return e;
  }

  // Function-specific rules on literal arguments, checked once here instead of on every item.
  bool checkLiterals(const Node& n, Expr& e) {
    auto str = [&](size_t i) -> std::string_view {
      return e.args[i] ? e.args[i]->constant.str() : std::string_view();
    };
    auto argColumn = [&](size_t i) { return e.args[i] ? e.args[i]->column : n.column; };
    switch (e.fn) {
      case FnId::kConvertCase: {
        const std::string_view c = str(1);
        if (c != "lower" && c != "upper" && c != "snake" && c != "camel") {
          error(argColumn(1), strCat("invalid case \"", c,
                                     "\" for ConvertCase: use lower, upper, snake or camel"));
          return false;
        }
        return true;
      }
      case FnId::kReplaceAllPatterns:
        if (str(1) != "key" && str(1) != "value") {
          error(argColumn(1),
                strCat("invalid mode \"", str(1), "\" for replace_all_patterns: use key or value"));
          return false;
        }
        return checkFormat(e, 5);
      case FnId::kReplacePattern:
      case FnId::kReplaceMatch:
      case FnId::kReplaceAllMatches:
        return checkFormat(e, 4);
      case FnId::kMergeMaps:
        if (str(2) != "insert" && str(2) != "update" && str(2) != "upsert") {
          error(argColumn(2), strCat("invalid strategy \"", str(2),
                                     "\" for merge_maps: use insert, update or upsert"));
          return false;
        }
        return true;
      case FnId::kExtractPatterns: {
        if (e.regex->NamedCapturingGroups().empty()) {
          error(argColumn(1),
                "ExtractPatterns needs at least one named capture group (?P<name>...)");
          return false;
        }
        return true;
      }
      case FnId::kTruncateAll: {
        const int64_t limit = e.args[1]->constant.integer();
        if (limit < 0) {
          error(argColumn(1), strCat("truncate_all limit cannot be negative, got ", limit));
          return false;
        }
        if (e.args[3] && static_cast<int64_t>(str(3).size()) > limit) {
          error(argColumn(3), "truncation_marker is longer than the limit");
          return false;
        }
        return true;
      }
      case FnId::kLimit: {
        const int64_t limit = e.args[1]->constant.integer();
        if (limit < 0) {
          error(argColumn(1), strCat("limit cannot be negative, got ", limit));
          return false;
        }
        const size_t priority = e.args[2]->items.size();
        if (static_cast<int64_t>(priority) > limit) {
          error(argColumn(2), strCat("number of priority keys (", priority,
                                     ") is greater than the limit (", limit, ")"));
          return false;
        }
        return true;
      }
      case FnId::kFlatten:
        if (e.args[2] && e.args[2]->constant.integer() < 0) {
          error(argColumn(2), "flatten depth cannot be negative");
          return false;
        }
        return true;
      default:
        return true;
    }
  }

  bool checkFormat(Expr& e, size_t index) {
    if (!e.args[index]) return true;
    const std::string_view f = e.args[index]->constant.str();
    size_t count = 0;
    for (size_t i = 0; i + 1 < f.size(); ++i) {
      if (f[i] == '%') {
        if (f[i + 1] == 's') {
          ++count;
        } else if (f[i + 1] != '%') {
          count = 99;
        }
        ++i;
      }
    }
    if (count != 1) {
      error(e.args[index]->column, "replacement_format must contain exactly one %s");
      return false;
    }
    return true;
  }

  static void finish(Statement& s, std::string text, Context context, ExprPtr editor,
                     ExprPtr where) {
    s.text_ = std::move(text);
    s.context_ = context;
    s.editor_ = std::move(editor);
    s.where_ = std::move(where);
  }
  static void finish(Condition& c, std::string text, ExprPtr expr) {
    c.text_ = std::move(text);
    c.expr_ = std::move(expr);
  }
};

Compiled<Statement> parseStatement(std::string_view text, Context context) {
  Compiled<Statement> out;
  StatementAst ast;
  Error parse_error;
  if (!parseStatementAst(text, ast, parse_error)) {
    out.errors.push_back(std::move(parse_error));
    return out;
  }
  Compiler c{context, {}};
  ExprPtr editor = c.call(*ast.editor, true);
  ExprPtr where;
  if (ast.where) where = c.boolean(*ast.where);
  if (!c.errors.empty()) {
    std::stable_sort(c.errors.begin(), c.errors.end(),
                     [](const Error& a, const Error& b) { return a.column < b.column; });
    out.errors = std::move(c.errors);
    return out;
  }
  out.program = std::make_unique<Statement>();
  Compiler::finish(*out.program, std::string(text), context, std::move(editor), std::move(where));
  return out;
}

Compiled<Condition> parseCondition(std::string_view text, Context context) {
  Compiled<Condition> out;
  NodePtr ast;
  Error parse_error;
  if (!parseConditionAst(text, ast, parse_error)) {
    out.errors.push_back(std::move(parse_error));
    return out;
  }
  Compiler c{context, {}};
  ExprPtr expr = c.boolean(*ast);
  if (!c.errors.empty()) {
    std::stable_sort(c.errors.begin(), c.errors.end(),
                     [](const Error& a, const Error& b) { return a.column < b.column; });
    out.errors = std::move(c.errors);
    return out;
  }
  out.program = std::make_unique<Condition>();
  Compiler::finish(*out.program, std::string(text), std::move(expr));
  return out;
}

namespace {

void collectContexts(const Node& n, std::vector<std::pair<std::string, int>>& out) {
  if (n.kind == NodeKind::kPath && contextFromName(n.segments[0])) {
    out.emplace_back(n.segments[0], n.column);
  }
  for (const PathKey& k : n.keys) {
    if (k.expr) collectContexts(*k.expr, out);
  }
  for (const Arg& a : n.args) collectContexts(*a.value, out);
  for (const NodePtr& i : n.items) collectContexts(*i, out);
  if (n.lhs) collectContexts(*n.lhs, out);
  if (n.rhs) collectContexts(*n.rhs, out);
}

}  // namespace

absl::StatusOr<Context> inferContext(std::string_view text, pipeline::Signal signal,
                                     bool is_condition) {
  std::vector<std::pair<std::string, int>> named;
  Error error;
  if (is_condition) {
    NodePtr ast;
    if (!parseConditionAst(text, ast, error)) return absl::InvalidArgumentError(error.toString());
    collectContexts(*ast, named);
  } else {
    StatementAst ast;
    if (!parseStatementAst(text, ast, error)) return absl::InvalidArgumentError(error.toString());
    collectContexts(*ast.editor, named);
    if (ast.where) collectContexts(*ast.where, named);
  }
  const std::vector<Context> allowed = contextsOf(signal);
  std::optional<Context> innermost;
  for (const auto& [name, column] : named) {
    const Context c = *contextFromName(name);
    auto pos = std::find(allowed.begin(), allowed.end(), c);
    if (pos == allowed.end()) {
      return absl::InvalidArgumentError(Error{
          column,
          strCat("path prefix '", name, "' does not belong to ", pipeline::signalName(signal))}
                                            .toString());
    }
    if (!innermost || pos > std::find(allowed.begin(), allowed.end(), *innermost)) innermost = c;
  }
  if (!innermost) {
    return absl::InvalidArgumentError(
        Error{1, strCat("cannot infer the context: prefix paths with their context (",
                        absl::StrJoin(allowed, ", ",
                                      [](std::string* o, Context c) { o->append(contextName(c)); }),
                        "), e.g. ", contextName(allowed[2]), ".attributes[\"key\"]")}
            .toString());
  }
  return *innermost;
}

}  // namespace otlpd::ottl
