// Runs checked OTTL (program.h) over one item through its ItemAccessor. Conditions compare values
// that may borrow the item's bytes; editors write through the accessor, which re-encodes only what
// changed.
#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <functional>
#include <unordered_set>

#include "common/fnv1a.h"
#include "common/strings.h"
#include "otlp/wire_edit.h"
#include "ottl/functions_impl.h"
#include "ottl/ottl.h"

namespace otlpd::ottl {
namespace {

absl::Status evalError(const Expr& e, std::string_view message) {
  return absl::InvalidArgumentError(strCat("column ", e.column, ": ", message));
}

// A map an editor changes: the item's attributes (edited in place, encoded entry by entry) or a
// decoded map (a body, the cache, a nested attribute value) written back afterwards.
class MapAccess {
 public:
  virtual ~MapAccess() = default;
  virtual size_t size() const = 0;
  virtual std::string_view key(size_t i) const = 0;
  virtual otlp::Value value(size_t i) const = 0;
  virtual std::optional<std::string_view> stringValue(size_t i) const = 0;
  virtual std::optional<size_t> find(std::string_view key) const = 0;
  virtual void setString(size_t i, std::string_view s) = 0;
  virtual void set(size_t i, const otlp::Value& v) = 0;
  virtual void put(std::string_view key, const otlp::Value& v) = 0;
  virtual void erase(size_t i) = 0;
  virtual void clear() = 0;
  virtual void append(std::string_view key, const otlp::Value& v) = 0;
  virtual size_t eraseKeys(const std::function<bool(std::string_view)>& drop) = 0;

  // Replaces the whole content.
  void replaceAll(const otlp::Value::Map& entries) {
    clear();
    for (const auto& [k, v] : entries) append(k, v);
  }
  otlp::Value::Map entries() const {
    otlp::Value::Map out;
    out.reserve(size());
    for (size_t i = 0; i < size(); ++i) out.emplace_back(std::string(key(i)), value(i));
    return out;
  }
};

class AttributeMap final : public MapAccess {
 public:
  explicit AttributeMap(otlp::AttributeList& list) : list_(list) {}
  size_t size() const override { return list_.size(); }
  std::string_view key(size_t i) const override { return list_.key(i); }
  otlp::Value value(size_t i) const override { return list_.value(i); }
  std::optional<std::string_view> stringValue(size_t i) const override {
    return list_.stringValue(i);
  }
  std::optional<size_t> find(std::string_view key) const override { return list_.find(key); }
  void setString(size_t i, std::string_view s) override { list_.setString(i, s); }
  void set(size_t i, const otlp::Value& v) override { list_.set(i, v); }
  void put(std::string_view key, const otlp::Value& v) override { list_.put(key, v); }
  void erase(size_t i) override { list_.erase(i); }
  void clear() override { list_.clear(); }
  void append(std::string_view key, const otlp::Value& v) override { list_.append(key, v); }
  size_t eraseKeys(const std::function<bool(std::string_view)>& drop) override {
    return list_.eraseIf(drop);
  }

 private:
  otlp::AttributeList& list_;
};

class ValueMap final : public MapAccess {
 public:
  explicit ValueMap(otlp::Value::Map& map) : map_(map) {}
  size_t size() const override { return map_.size(); }
  std::string_view key(size_t i) const override { return map_[i].first; }
  otlp::Value value(size_t i) const override { return map_[i].second; }
  std::optional<std::string_view> stringValue(size_t i) const override {
    if (map_[i].second.kind() != otlp::Value::Kind::kString) return std::nullopt;
    return std::string_view(map_[i].second.str());
  }
  std::optional<size_t> find(std::string_view key) const override {
    for (size_t i = 0; i < map_.size(); ++i) {
      if (map_[i].first == key) return i;
    }
    return std::nullopt;
  }
  void setString(size_t i, std::string_view s) override {
    map_[i].second = otlp::Value::ofString(std::string(s));
    changed_ = true;
  }
  void set(size_t i, const otlp::Value& v) override {
    map_[i].second = v;
    changed_ = true;
  }
  void put(std::string_view key, const otlp::Value& v) override {
    if (std::optional<size_t> i = find(key)) {
      set(*i, v);
    } else {
      append(key, v);
    }
  }
  void erase(size_t i) override {
    map_.erase(map_.begin() + static_cast<std::ptrdiff_t>(i));
    changed_ = true;
  }
  void clear() override {
    changed_ = changed_ || !map_.empty();
    map_.clear();
  }
  void append(std::string_view key, const otlp::Value& v) override {
    map_.emplace_back(std::string(key), v);
    changed_ = true;
  }
  size_t eraseKeys(const std::function<bool(std::string_view)>& drop) override {
    const size_t before = map_.size();
    std::erase_if(map_, [&](const auto& kv) { return drop(kv.first); });
    changed_ = changed_ || map_.size() != before;
    return before - map_.size();
  }
  bool changed() const { return changed_; }

 private:
  otlp::Value::Map& map_;
  bool changed_ = false;
};

// Applies `keys[from...]` to a value: map entries by string, list items by index.
absl::Status applyKeys(const Expr& e, Value& v, size_t from) {
  for (size_t i = from; i < e.keys.size(); ++i) {
    if (v.isNil()) return absl::OkStatus();
    const IndexKey& k = e.keys[i];
    if (v.type() == Type::kMap && !k.is_int) {
      const otlp::Value* found = v.pdata().find(k.str);
      if (found == nullptr) {
        v = Value();
      } else {
        otlp::Value sub = *found;
        v = Value::ofPdata(std::move(sub));
      }
    } else if (v.type() == Type::kList && k.is_int) {
      const auto& array = v.pdata().array();
      if (k.index < 0 || static_cast<size_t>(k.index) >= array.size()) {
        return evalError(e,
                         strCat("index ", k.index, " out of range (list of ", array.size(), ")"));
      }
      otlp::Value sub = array[static_cast<size_t>(k.index)];
      v = Value::ofPdata(std::move(sub));
    } else {
      return evalError(e, strCat("cannot index a ", typeName(v.type()), " with ",
                                 k.is_int ? "an int" : "a string", " key"));
    }
  }
  return absl::OkStatus();
}

// Sets `value` at `keys[from...]` inside `root`, creating maps for missing string keys.
absl::Status setNested(const Expr& e, otlp::Value& root, size_t from, otlp::Value value) {
  otlp::Value* cur = &root;
  for (size_t i = from; i < e.keys.size(); ++i) {
    const IndexKey& k = e.keys[i];
    if (!k.is_int) {
      if (cur->kind() == otlp::Value::Kind::kEmpty) *cur = otlp::Value::ofMap({});
      if (cur->kind() != otlp::Value::Kind::kMap) {
        return evalError(e, strCat("cannot set key \"", k.str, "\" of a non-map value"));
      }
      otlp::Value* next = cur->find(k.str);
      if (next == nullptr) {
        cur->mutableMap().emplace_back(k.str, otlp::Value());
        next = &cur->mutableMap().back().second;
      }
      cur = next;
    } else {
      if (cur->kind() != otlp::Value::Kind::kArray) {
        return evalError(e, "cannot set an index of a non-list value");
      }
      auto& array = cur->mutableArray();
      if (k.index < 0 || static_cast<size_t>(k.index) >= array.size()) {
        return evalError(e,
                         strCat("index ", k.index, " out of range (list of ", array.size(), ")"));
      }
      cur = &array[static_cast<size_t>(k.index)];
    }
  }
  *cur = std::move(value);
  return absl::OkStatus();
}

// pcommon-style string of a value for Concat (nil is "<nil>", bytes are hex).
std::string stringLike(const Value& v) {
  switch (v.type()) {
    case Type::kNil:
      return "<nil>";
    case Type::kBytes:
      return hexLower(v.str());
    default:
      return asString(v);
  }
}

class Evaluator {
 public:
  Evaluator(ItemAccessor& item, EvalState& state) : item_(item), state_(state) {}

  absl::Status eval(const Expr& e, Value& out) {
    switch (e.kind) {
      case Expr::Kind::kConst:
        out = e.constant;
        return absl::OkStatus();
      case Expr::Kind::kPath:
        return readPath(e, out);
      case Expr::Kind::kCall:
        if (absl::Status s = converter(e, out); !s.ok()) return s;
        return e.keys.empty() ? absl::OkStatus() : applyKeys(e, out, 0);
      case Expr::Kind::kList: {
        otlp::Value::Array array;
        array.reserve(e.items.size());
        for (const ExprPtr& item : e.items) {
          Value v;
          if (absl::Status s = eval(*item, v); !s.ok()) return s;
          absl::StatusOr<otlp::Value> pv = v.toPdata();
          if (!pv.ok()) return evalError(*item, toStd(pv.status().message()));
          array.push_back(*std::move(pv));
        }
        out = Value::ofList(std::move(array));
        return absl::OkStatus();
      }
      case Expr::Kind::kMath:
        return math(e, out);
      case Expr::Kind::kNegate: {
        Value v;
        if (absl::Status s = eval(*e.lhs, v); !s.ok()) return s;
        switch (v.type()) {
          case Type::kInt:
            out = Value::ofInt(-v.integer());
            return absl::OkStatus();
          case Type::kDouble:
            out = Value::ofDouble(-v.dbl());
            return absl::OkStatus();
          case Type::kDuration:
            out = Value::ofDuration(-v.integer());
            return absl::OkStatus();
          default:
            return evalError(e, strCat("cannot negate a ", typeName(v.type())));
        }
      }
      case Expr::Kind::kCompare:
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr:
      case Expr::Kind::kNot: {
        absl::StatusOr<bool> b = test(e);
        if (!b.ok()) return b.status();
        out = Value::ofBool(*b);
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<bool> test(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kAnd: {
        absl::StatusOr<bool> l = test(*e.lhs);
        if (!l.ok() || !*l) return l;
        return test(*e.rhs);
      }
      case Expr::Kind::kOr: {
        absl::StatusOr<bool> l = test(*e.lhs);
        if (!l.ok() || *l) return l;
        return test(*e.rhs);
      }
      case Expr::Kind::kNot: {
        absl::StatusOr<bool> v = test(*e.lhs);
        if (!v.ok()) return v;
        return !*v;
      }
      case Expr::Kind::kCompare: {
        Value lt, rt;
        const Value* l = operand(*e.lhs, lt);
        if (l == nullptr) return status_;
        const Value* r = operand(*e.rhs, rt);
        if (r == nullptr) return status_;
        return compare(*l, *r, e.compare);
      }
      case Expr::Kind::kConst:
        return e.constant.type() == Type::kBool && e.constant.boolean();
      default: {
        Value v;
        if (absl::Status s = eval(e, v); !s.ok()) return s;
        if (v.type() != Type::kBool) {
          return evalError(e, strCat("expected a boolean, got a ", typeName(v.type())));
        }
        return v.boolean();
      }
    }
  }

  absl::Status editor(const Expr& e);

 private:
  const Value* operand(const Expr& e, Value& tmp) {
    if (e.kind == Expr::Kind::kConst) return &e.constant;
    status_ = eval(e, tmp);
    return status_.ok() ? &tmp : nullptr;
  }

  absl::Status readPath(const Expr& e, Value& out) {
    const Field& f = e.field;
    switch (f.kind) {
      case FieldKind::kAttributes:
        if (e.keys.empty()) {
          out = item_.allAttributes(f.level);
          return absl::OkStatus();
        }
        out = item_.attribute(f.level, e.keys[0].str);
        return e.keys.size() == 1 ? absl::OkStatus() : applyKeys(e, out, 1);
      case FieldKind::kCache: {
        const otlp::Value* cur = &state_.cache;
        for (const IndexKey& k : e.keys) {
          if (!k.is_int && cur->kind() == otlp::Value::Kind::kMap) {
            cur = cur->find(k.str);
          } else if (k.is_int && cur->kind() == otlp::Value::Kind::kArray) {
            cur = k.index >= 0 && static_cast<size_t>(k.index) < cur->array().size()
                      ? &cur->array()[static_cast<size_t>(k.index)]
                      : nullptr;
          } else {
            cur = nullptr;
          }
          if (cur == nullptr) {
            out = Value();
            return absl::OkStatus();
          }
        }
        out = Value::ofPdata(*cur);
        return absl::OkStatus();
      }
      default:
        out = item_.get(f);
        return e.keys.empty() ? absl::OkStatus() : applyKeys(e, out, 0);
    }
  }

  absl::Status writePath(const Expr& e, const Value& value) {
    const Field& f = e.field;
    switch (f.kind) {
      case FieldKind::kAttributes: {
        otlp::AttributeList* list = item_.attributes(f.level);
        if (list == nullptr) return evalError(e, "these attributes cannot be changed here");
        if (e.keys.empty()) {
          if (value.type() != Type::kMap) {
            return evalError(
                e, strCat("attributes can only be set to a map, got a ", typeName(value.type())));
          }
          AttributeMap(*list).replaceAll(value.pdata().map());
          return absl::OkStatus();
        }
        if (e.keys.size() == 1 && value.type() == Type::kString) {
          if (std::optional<size_t> i = list->find(e.keys[0].str)) {
            list->setString(*i, value.str());
            return absl::OkStatus();
          }
        }
        absl::StatusOr<otlp::Value> pv = value.toPdata();
        if (!pv.ok()) return evalError(e, toStd(pv.status().message()));
        if (e.keys.size() == 1) {
          list->put(e.keys[0].str, *pv);
          return absl::OkStatus();
        }
        std::optional<size_t> i = list->find(e.keys[0].str);
        otlp::Value root = i ? list->value(*i) : otlp::Value();
        if (absl::Status s = setNested(e, root, 1, *std::move(pv)); !s.ok()) return s;
        list->put(e.keys[0].str, root);
        return absl::OkStatus();
      }
      case FieldKind::kCache: {
        absl::StatusOr<otlp::Value> pv = value.toPdata();
        if (!pv.ok()) return evalError(e, toStd(pv.status().message()));
        if (e.keys.empty()) {
          if (pv->kind() != otlp::Value::Kind::kMap) {
            return evalError(e, "cache can only be set to a map");
          }
          state_.cache = *std::move(pv);
          return absl::OkStatus();
        }
        return setNested(e, state_.cache, 0, *std::move(pv));
      }
      case FieldKind::kBody:
        if (!e.keys.empty()) {
          Value current = item_.get(f);
          absl::StatusOr<otlp::Value> root = current.toPdata();
          absl::StatusOr<otlp::Value> pv = value.toPdata();
          if (!pv.ok()) return evalError(e, toStd(pv.status().message()));
          if (absl::Status s = setNested(e, *root, 0, *std::move(pv)); !s.ok()) return s;
          return wrap(e, item_.set(f, Value::ofPdata(*std::move(root))));
        }
        return wrap(e, item_.set(f, value));
      default:
        return wrap(e, item_.set(f, value));
    }
  }

  static absl::Status wrap(const Expr& e, absl::Status s) {
    if (s.ok()) return s;
    return evalError(e, toStd(s.message()));
  }

  // Runs `fn` over the map `target` points to.
  template <class Fn>
  absl::Status withMap(const Expr& target, Fn&& fn) {
    const Field& f = target.field;
    if (f.kind == FieldKind::kAttributes && target.keys.empty()) {
      otlp::AttributeList* list = item_.attributes(f.level);
      if (list == nullptr) return evalError(target, "these attributes cannot be changed here");
      AttributeMap map(*list);
      return fn(static_cast<MapAccess&>(map));
    }
    if (f.kind == FieldKind::kCache && target.keys.empty()) {
      ValueMap map(state_.cache.mutableMap());
      return fn(static_cast<MapAccess&>(map));
    }
    Value current;
    if (absl::Status s = readPath(target, current); !s.ok()) return s;
    if (current.type() != Type::kMap) {
      return evalError(target, strCat("expected a map, got ", typeName(current.type())));
    }
    otlp::Value pv = std::move(current.mutablePdata());
    ValueMap map(pv.mutableMap());
    if (absl::Status s = fn(static_cast<MapAccess&>(map)); !s.ok()) return s;
    if (!map.changed()) return absl::OkStatus();
    return writePath(target, Value::ofPdata(std::move(pv)));
  }

  absl::Status stringArg(const Expr& call, size_t i, std::string& out, std::string_view fn) {
    Value v;
    if (absl::Status s = eval(*call.args[i], v); !s.ok()) return s;
    if (v.type() != Type::kString) {
      return evalError(*call.args[i], strCat(fn, ": expected a string, got ", typeName(v.type())));
    }
    out.assign(v.str());
    return absl::OkStatus();
  }

  ReplacementTransform transformOf(const Expr& e, size_t format_index) const {
    ReplacementTransform t;
    t.hash = e.has_hash_fn;
    if (e.args.size() > format_index && e.args[format_index]) {
      t.format = e.args[format_index]->constant.str();
    }
    return t;
  }

  absl::Status converter(const Expr& e, Value& out);
  absl::Status math(const Expr& e, Value& out);

  ItemAccessor& item_;
  EvalState& state_;
  absl::Status status_;
};

absl::Status Evaluator::math(const Expr& e, Value& out) {
  Value l, r;
  if (absl::Status s = eval(*e.lhs, l); !s.ok()) return s;
  if (absl::Status s = eval(*e.rhs, r); !s.ok()) return s;
  const Type lt = l.type(), rt = r.type();
  auto bad = [&] {
    return evalError(e, strCat("cannot compute ", typeName(lt), " and ", typeName(rt)));
  };
  if (lt == Type::kInt && rt == Type::kInt) {
    const int64_t a = l.integer(), b = r.integer();
    switch (e.math) {
      case MathOp::kAdd:
        out =
            Value::ofInt(static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)));
        return absl::OkStatus();
      case MathOp::kSub:
        out =
            Value::ofInt(static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)));
        return absl::OkStatus();
      case MathOp::kMul:
        out =
            Value::ofInt(static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b)));
        return absl::OkStatus();
      case MathOp::kDiv:
        if (b == 0) return evalError(e, "division by zero");
        if (a == INT64_MIN && b == -1) {
          out = Value::ofInt(INT64_MIN);
          return absl::OkStatus();
        }
        out = Value::ofInt(a / b);
        return absl::OkStatus();
    }
  }
  if (lt == Type::kDouble && rt == Type::kDouble) {
    const double a = l.dbl(), b = r.dbl();
    switch (e.math) {
      case MathOp::kAdd:
        out = Value::ofDouble(a + b);
        return absl::OkStatus();
      case MathOp::kSub:
        out = Value::ofDouble(a - b);
        return absl::OkStatus();
      case MathOp::kMul:
        out = Value::ofDouble(a * b);
        return absl::OkStatus();
      case MathOp::kDiv:
        if (b == 0) return evalError(e, "division by zero");
        out = Value::ofDouble(a / b);
        return absl::OkStatus();
    }
  }
  const bool add = e.math == MathOp::kAdd, sub = e.math == MathOp::kSub;
  if (lt == Type::kTime && rt == Type::kTime && sub) {
    out = Value::ofDuration(l.integer() - r.integer());
    return absl::OkStatus();
  }
  if (lt == Type::kTime && rt == Type::kDuration && (add || sub)) {
    out = Value::ofTime(add ? l.integer() + r.integer() : l.integer() - r.integer());
    return absl::OkStatus();
  }
  if (lt == Type::kDuration && rt == Type::kTime && add) {
    out = Value::ofTime(l.integer() + r.integer());
    return absl::OkStatus();
  }
  if (lt == Type::kDuration && rt == Type::kDuration && (add || sub)) {
    out = Value::ofDuration(add ? l.integer() + r.integer() : l.integer() - r.integer());
    return absl::OkStatus();
  }
  return bad();
}

absl::Status Evaluator::converter(const Expr& e, Value& out) {
  auto arg = [&](size_t i, Value& v) { return eval(*e.args[i], v); };
  switch (e.fn) {
    case FnId::kConcat: {
      const std::string_view delimiter = e.args[1]->constant.str();
      std::string result;
      bool first = true;
      for (const ExprPtr& item : e.args[0]->items) {
        Value v;
        if (absl::Status s = eval(*item, v); !s.ok()) return s;
        if (!first) result += delimiter;
        first = false;
        result += stringLike(v);
      }
      out = Value::ofString(std::move(result));
      return absl::OkStatus();
    }
    case FnId::kConvertCase: {
      std::string s;
      if (absl::Status st = stringArg(e, 0, s, "ConvertCase"); !st.ok()) return st;
      const std::string_view to = e.args[1]->constant.str();
      if (to == "lower") {
        for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (to == "upper") {
        for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      } else if (to == "snake") {
        s = toSnakeCase(s);
      } else {
        s = toCamelCase(s);
      }
      out = Value::ofString(std::move(s));
      return absl::OkStatus();
    }
    case FnId::kSubstring: {
      std::string s;
      if (absl::Status st = stringArg(e, 0, s, "Substring"); !st.ok()) return st;
      Value start, length;
      if (absl::Status st = arg(1, start); !st.ok()) return st;
      if (absl::Status st = arg(2, length); !st.ok()) return st;
      if (start.type() != Type::kInt || length.type() != Type::kInt) {
        return evalError(e, "Substring: start and length must be ints");
      }
      const int64_t b = start.integer(), n = length.integer();
      if (b < 0) return evalError(e, strCat("Substring: start ", b, " is negative"));
      if (n <= 0) return evalError(e, strCat("Substring: length ", n, " is not positive"));
      // Not b + n > size: b + n overflows for lengths near INT64_MAX (found by the ottl fuzz
      // replay: substr then threw out of the pipeline).
      if (b > static_cast<int64_t>(s.size()) || n > static_cast<int64_t>(s.size()) - b) {
        return evalError(e, strCat("Substring: range ", b, "+", n,
                                   " is past the end of the string (", s.size(), ")"));
      }
      out = Value::ofString(s.substr(static_cast<size_t>(b), static_cast<size_t>(n)));
      return absl::OkStatus();
    }
    case FnId::kSplit: {
      std::string s;
      if (absl::Status st = stringArg(e, 0, s, "Split"); !st.ok()) return st;
      const std::string_view d = e.args[1]->constant.str();
      otlp::Value::Array parts;
      if (d.empty()) {
        for (size_t i = 0; i < s.size();) {
          const auto c = static_cast<unsigned char>(s[i]);
          size_t w = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
          w = std::min(w, s.size() - i);
          parts.push_back(otlp::Value::ofString(s.substr(i, w)));
          i += w;
        }
      } else {
        size_t pos = 0;
        while (true) {
          const size_t next = s.find(d, pos);
          if (next == std::string::npos) {
            parts.push_back(otlp::Value::ofString(s.substr(pos)));
            break;
          }
          parts.push_back(otlp::Value::ofString(s.substr(pos, next - pos)));
          pos = next + d.size();
        }
      }
      out = Value::ofList(std::move(parts));
      return absl::OkStatus();
    }
    case FnId::kIsMatch: {
      Value v;
      if (absl::Status st = arg(0, v); !st.ok()) return st;
      if (v.isNil()) {
        out = Value::ofBool(false);
        return absl::OkStatus();
      }
      const bool m =
          v.type() == Type::kString
              ? RE2::PartialMatch(re2::StringPiece(v.str().data(), v.str().size()), *e.regex)
              : RE2::PartialMatch(asString(v), *e.regex);
      out = Value::ofBool(m);
      return absl::OkStatus();
    }
    case FnId::kIsString:
    case FnId::kIsInt:
    case FnId::kIsMap: {
      Value v;
      if (absl::Status st = arg(0, v); !st.ok()) return st;
      const Type want = e.fn == FnId::kIsString ? Type::kString
                        : e.fn == FnId::kIsInt  ? Type::kInt
                                                : Type::kMap;
      out = Value::ofBool(v.type() == want);
      return absl::OkStatus();
    }
    case FnId::kLen: {
      Value v;
      if (absl::Status st = arg(0, v); !st.ok()) return st;
      switch (v.type()) {
        case Type::kString:
          out = Value::ofInt(static_cast<int64_t>(v.str().size()));
          return absl::OkStatus();
        case Type::kMap:
          out = Value::ofInt(static_cast<int64_t>(v.pdata().map().size()));
          return absl::OkStatus();
        case Type::kList:
          out = Value::ofInt(static_cast<int64_t>(v.pdata().array().size()));
          return absl::OkStatus();
        default:
          return evalError(e, strCat("Len: cannot take the length of a ", typeName(v.type())));
      }
    }
    case FnId::kInt: {
      Value v;
      if (absl::Status st = arg(0, v); !st.ok()) return st;
      out = Value();
      switch (v.type()) {
        case Type::kInt:
          out = v;
          break;
        case Type::kDouble:
          if (std::isfinite(v.dbl()) && std::fabs(v.dbl()) < 9.2e18) {
            out = Value::ofInt(static_cast<int64_t>(v.dbl()));
          }
          break;
        case Type::kBool:
          out = Value::ofInt(v.boolean() ? 1 : 0);
          break;
        case Type::kString: {
          std::string_view s = v.str();
          if (!s.empty() && s[0] == '+') s.remove_prefix(1);
          int64_t i = 0;
          auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
          if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty()) out = Value::ofInt(i);
          break;
        }
        default:
          break;
      }
      return absl::OkStatus();
    }
    case FnId::kDouble: {
      Value v;
      if (absl::Status st = arg(0, v); !st.ok()) return st;
      out = Value();
      switch (v.type()) {
        case Type::kDouble:
          out = v;
          break;
        case Type::kInt:
          out = Value::ofDouble(static_cast<double>(v.integer()));
          break;
        case Type::kBool:
          out = Value::ofDouble(v.boolean() ? 1 : 0);
          break;
        case Type::kString: {
          std::string_view s = v.str();
          if (!s.empty() && s[0] == '+') s.remove_prefix(1);
          double d = 0;
          auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
          if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty()) {
            out = Value::ofDouble(d);
          }
          break;
        }
        default:
          break;
      }
      return absl::OkStatus();
    }
    case FnId::kString: {
      Value v;
      if (absl::Status st = arg(0, v); !st.ok()) return st;
      switch (v.type()) {
        case Type::kNil:
          out = Value();
          break;
        case Type::kString:
          out = std::move(v);
          out.own();
          break;
        case Type::kBytes:
          out = Value::ofString(hexLower(v.str()));
          break;
        default:
          out = Value::ofString(asString(v));
          break;
      }
      return absl::OkStatus();
    }
    case FnId::kSha256:
    case FnId::kFnv: {
      std::string s;
      if (absl::Status st = stringArg(e, 0, s, e.fn == FnId::kSha256 ? "SHA256" : "FNV");
          !st.ok()) {
        return st;
      }
      if (e.fn == FnId::kSha256) {
        out = Value::ofString(sha256Hex(s));
      } else {
        out = Value::ofInt(static_cast<int64_t>(common::fnv1a64(s)));
      }
      return absl::OkStatus();
    }
    case FnId::kParseJson: {
      Value v;
      if (absl::Status st = arg(0, v); !st.ok()) return st;
      if (v.type() != Type::kString && v.type() != Type::kBytes) {
        return evalError(e, strCat("ParseJSON: expected a string, got ", typeName(v.type())));
      }
      absl::StatusOr<otlp::Value> parsed = parseJsonValue(v.str());
      if (!parsed.ok()) return evalError(e, toStd(parsed.status().message()));
      out = Value::ofPdata(*std::move(parsed));
      return absl::OkStatus();
    }
    case FnId::kExtractPatterns: {
      std::string s;
      if (absl::Status st = stringArg(e, 0, s, "ExtractPatterns"); !st.ok()) return st;
      const RE2& re = *e.regex;
      const int n = re.NumberOfCapturingGroups() + 1;
      std::vector<re2::StringPiece> groups(static_cast<size_t>(n));
      otlp::Value::Map result;
      if (re.Match(s, 0, s.size(), RE2::UNANCHORED, groups.data(), n)) {
        std::vector<std::pair<int, std::string>> named;
        for (const auto& [name, index] : re.NamedCapturingGroups()) named.emplace_back(index, name);
        std::sort(named.begin(), named.end());
        for (const auto& [index, name] : named) {
          const re2::StringPiece& g = groups[static_cast<size_t>(index)];
          result.emplace_back(
              name, otlp::Value::ofString(std::string(g.data() ? g.data() : "", g.size())));
        }
      }
      out = Value::ofMap(std::move(result));
      return absl::OkStatus();
    }
    case FnId::kTraceId:
    case FnId::kSpanId: {
      const size_t size = e.fn == FnId::kTraceId ? 16 : 8;
      const char* name = e.fn == FnId::kTraceId ? "TraceID" : "SpanID";
      Value v;
      if (absl::Status st = arg(0, v); !st.ok()) return st;
      if (v.type() == Type::kBytes && v.str().size() == size) {
        out = Value::ofBytes(std::string(v.str()));
        return absl::OkStatus();
      }
      if (v.type() == Type::kString && v.str().size() == size * 2) {
        if (std::optional<std::string> b = fromHex(v.str())) {
          out = Value::ofBytes(*std::move(b));
          return absl::OkStatus();
        }
      }
      return evalError(e,
                       strCat(name, ": expects ", size, " bytes or ", size * 2, " hex characters"));
    }
    case FnId::kDuration: {
      std::string s;
      if (absl::Status st = stringArg(e, 0, s, "Duration"); !st.ok()) return st;
      absl::StatusOr<int64_t> d = parseGoDuration(s);
      if (!d.ok()) return evalError(e, toStd(d.status().message()));
      out = Value::ofDuration(*d);
      return absl::OkStatus();
    }
    case FnId::kUnixNano: {
      Value v;
      if (absl::Status st = arg(0, v); !st.ok()) return st;
      if (v.type() != Type::kTime) {
        return evalError(e, strCat("UnixNano: expected a time, got ", typeName(v.type())));
      }
      out = Value::ofInt(v.integer());
      return absl::OkStatus();
    }
    case FnId::kNow:
      out = Value::ofTime(state_.now_unix_nanos);
      return absl::OkStatus();
    default:
      return evalError(e, "not a converter");
  }
}

absl::Status Evaluator::editor(const Expr& e) {
  const Expr& target = *e.args[0];
  switch (e.fn) {
    case FnId::kSet: {
      if (e.args[1]->kind == Expr::Kind::kConst) {
        if (e.args[1]->constant.isNil()) return absl::OkStatus();
        return writePath(target, e.args[1]->constant);
      }
      Value v;
      if (absl::Status s = eval(*e.args[1], v); !s.ok()) return s;
      if (v.isNil()) return absl::OkStatus();  // the Collector's set ignores nil
      v.own();
      return writePath(target, v);
    }
    case FnId::kDeleteKey: {
      const std::string_view key = e.args[1]->constant.str();
      return withMap(target, [&](MapAccess& m) {
        if (std::optional<size_t> i = m.find(key)) m.erase(*i);
        return absl::OkStatus();
      });
    }
    case FnId::kDeleteMatchingKeys:
    case FnId::kKeepMatchingKeys: {
      const bool keep = e.fn == FnId::kKeepMatchingKeys;
      const RE2& re = *e.regex;
      return withMap(target, [&](MapAccess& m) {
        m.eraseKeys([&](std::string_view k) {
          return RE2::PartialMatch(re2::StringPiece(k.data(), k.size()), re) != keep;
        });
        return absl::OkStatus();
      });
    }
    case FnId::kKeepKeys: {
      const auto& items = e.args[1]->items;
      return withMap(target, [&](MapAccess& m) {
        m.eraseKeys([&](std::string_view k) {
          for (const ExprPtr& item : items) {
            if (item->constant.str() == k) return false;
          }
          return true;
        });
        return absl::OkStatus();
      });
    }
    case FnId::kReplacePattern:
    case FnId::kReplaceMatch: {
      Value current;
      if (absl::Status s = readPath(target, current); !s.ok()) return s;
      if (current.type() != Type::kString) return absl::OkStatus();
      std::string replacement_storage;
      std::string_view replacement;
      if (e.args[2]->kind == Expr::Kind::kConst && e.args[2]->constant.type() == Type::kString) {
        replacement = e.args[2]->constant.str();
      } else {
        if (absl::Status s = stringArg(e, 2, replacement_storage, "replacement"); !s.ok()) return s;
        replacement = replacement_storage;
      }
      const ReplacementTransform t = transformOf(e, 4);
      if (e.fn == FnId::kReplacePattern) {
        std::optional<std::string> updated =
            replaceAllRegex(*e.regex, current.str(), replacement, t);
        if (!updated || *updated == current.str()) return absl::OkStatus();
        return writePath(target, Value::ofString(*std::move(updated)));
      }
      if (!globMatch(e.args[1]->constant.str(), current.str())) return absl::OkStatus();
      return writePath(target, Value::ofString(transformReplacement(replacement, t)));
    }
    case FnId::kReplaceAllPatterns: {
      std::string replacement;
      if (absl::Status s = stringArg(e, 3, replacement, "replacement"); !s.ok()) return s;
      const ReplacementTransform t = transformOf(e, 5);
      const bool keys = e.args[1]->constant.str() == "key";
      const RE2& re = *e.regex;
      return withMap(target, [&](MapAccess& m) {
        if (!keys) {
          for (size_t i = 0; i < m.size(); ++i) {
            std::optional<std::string_view> s = m.stringValue(i);
            if (!s) continue;
            std::optional<std::string> updated = replaceAllRegex(re, *s, replacement, t);
            if (updated && *updated != *s) m.setString(i, *updated);
          }
          return absl::OkStatus();
        }
        bool any = false;
        otlp::Value::Map rebuilt;
        for (size_t i = 0; i < m.size(); ++i) {
          std::string k(m.key(i));
          if (std::optional<std::string> updated = replaceAllRegex(re, k, replacement, t)) {
            any = any || *updated != k;
            k = *std::move(updated);
          }
          auto existing = std::find_if(rebuilt.begin(), rebuilt.end(),
                                       [&](const auto& kv) { return kv.first == k; });
          if (existing != rebuilt.end()) {
            existing->second = m.value(i);
          } else {
            rebuilt.emplace_back(std::move(k), m.value(i));
          }
        }
        if (any) m.replaceAll(rebuilt);
        return absl::OkStatus();
      });
    }
    case FnId::kReplaceAllMatches: {
      std::string replacement;
      if (absl::Status s = stringArg(e, 2, replacement, "replacement"); !s.ok()) return s;
      const std::string value = transformReplacement(replacement, transformOf(e, 4));
      const std::string_view pattern = e.args[1]->constant.str();
      return withMap(target, [&](MapAccess& m) {
        for (size_t i = 0; i < m.size(); ++i) {
          std::optional<std::string_view> s = m.stringValue(i);
          if (s && globMatch(pattern, *s) && *s != value) m.setString(i, value);
        }
        return absl::OkStatus();
      });
    }
    case FnId::kTruncateAll: {
      const auto limit = static_cast<size_t>(e.args[1]->constant.integer());
      const bool utf8_safe = !e.args[2] || e.args[2]->constant.boolean();
      const std::string_view marker = e.args[3] ? e.args[3]->constant.str() : std::string_view();
      return withMap(target, [&](MapAccess& m) {
        for (size_t i = 0; i < m.size(); ++i) {
          std::optional<std::string_view> s = m.stringValue(i);
          if (!s || s->size() <= limit) continue;
          size_t cut = limit - marker.size();
          if (utf8_safe) {
            while (cut > 0 && (static_cast<unsigned char>((*s)[cut]) & 0xC0) == 0x80) --cut;
          }
          m.setString(i, strCat(s->substr(0, cut), marker));
        }
        return absl::OkStatus();
      });
    }
    case FnId::kLimit: {
      const auto limit = static_cast<size_t>(e.args[1]->constant.integer());
      const auto& priority = e.args[2]->items;
      auto isPriority = [&](std::string_view k) {
        for (const ExprPtr& p : priority) {
          if (p->constant.str() == k) return true;
        }
        return false;
      };
      return withMap(target, [&](MapAccess& m) {
        if (m.size() <= limit) return absl::OkStatus();
        size_t priority_present = 0;
        for (size_t i = 0; i < m.size(); ++i) priority_present += isPriority(m.key(i)) ? 1 : 0;
        size_t others = limit - std::min(limit, priority_present);
        m.eraseKeys([&](std::string_view k) {
          if (isPriority(k)) return false;
          if (others > 0) {
            --others;
            return false;
          }
          return true;
        });
        return absl::OkStatus();
      });
    }
    case FnId::kMergeMaps: {
      Value source;
      if (absl::Status s = eval(*e.args[1], source); !s.ok()) return s;
      if (source.type() != Type::kMap) {
        return evalError(
            *e.args[1], strCat("merge_maps: source is a ", typeName(source.type()), ", not a map"));
      }
      const std::string_view strategy = e.args[2]->constant.str();
      return withMap(target, [&](MapAccess& m) {
        for (const auto& [k, v] : source.pdata().map()) {
          std::optional<size_t> i = m.find(k);
          if (i) {
            if (strategy != "insert") m.set(*i, v);
          } else if (strategy != "update") {
            m.append(k, v);
          }
        }
        return absl::OkStatus();
      });
    }
    case FnId::kFlatten: {
      const std::string prefix = e.args[1] ? std::string(e.args[1]->constant.str()) : "";
      const int64_t depth = e.args[2] ? e.args[2]->constant.integer() : INT64_MAX;
      const bool resolve = e.args[3] && e.args[3]->constant.boolean();
      return withMap(target, [&](MapAccess& m) {
        otlp::Value::Map result;
        auto put = [&](std::string key, otlp::Value v) {
          auto exists = [&](const std::string& k) {
            return std::any_of(result.begin(), result.end(),
                               [&](const auto& kv) { return kv.first == k; });
          };
          if (exists(key)) {
            if (resolve) {
              for (int n = 0;; ++n) {
                std::string candidate = strCat(key, ".", n);
                if (!exists(candidate)) {
                  result.emplace_back(std::move(candidate), std::move(v));
                  return;
                }
              }
            }
            for (auto& kv : result) {
              if (kv.first == key) {
                kv.second = std::move(v);
                break;  // keys are unique
              }
            }
            return;
          }
          result.emplace_back(std::move(key), std::move(v));
        };
        std::function<void(const otlp::Value::Map&, const std::string&, int64_t)> flattenMap;
        std::function<void(const std::string&, const otlp::Value&, int64_t)> flattenValue;
        flattenMap = [&](const otlp::Value::Map& map, const std::string& p, int64_t d) {
          const std::string base = p.empty() ? p : p + ".";
          for (const auto& [k, v] : map) flattenValue(base + k, v, d);
        };
        flattenValue = [&](const std::string& key, const otlp::Value& v, int64_t d) {
          if (v.kind() == otlp::Value::Kind::kMap && d < depth) {
            flattenMap(v.map(), key, d + 1);
          } else if (v.kind() == otlp::Value::Kind::kArray && d < depth) {
            const auto& items = v.array();
            for (size_t i = 0; i < items.size(); ++i) {
              const std::string item_key = resolve ? key : strCat(key, ".", i);
              const otlp::Value& item = items[i];
              if (item.kind() == otlp::Value::Kind::kMap && d + 1 < depth) {
                flattenMap(item.map(), resolve ? strCat(key, ".", i) : item_key, d + 2);
              } else if (item.kind() == otlp::Value::Kind::kArray && d + 1 < depth) {
                flattenValue(resolve ? strCat(key, ".", i) : item_key, item, d + 1);
              } else {
                put(item_key, item);
              }
            }
          } else {
            put(key, v);
          }
        };
        flattenMap(m.entries(), prefix, 0);
        m.replaceAll(result);
        return absl::OkStatus();
      });
    }
    default:
      return evalError(e, "not an editor");
  }
}

}  // namespace

absl::StatusOr<bool> Condition::evaluate(ItemAccessor& item, EvalState& state) const {
  Evaluator ev(item, state);
  return ev.test(*expr_);
}

absl::StatusOr<bool> Statement::execute(ItemAccessor& item, EvalState& state) const {
  Evaluator ev(item, state);
  if (where_) {
    absl::StatusOr<bool> holds = ev.test(*where_);
    if (!holds.ok() || !*holds) return holds;
  }
  if (absl::Status s = ev.editor(*editor_); !s.ok()) return s;
  return true;
}

}  // namespace otlpd::ottl
