#include "processors/transform/transform_processor.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "common/strings.h"
#include "processors/common/editing_processor.h"
#include "processors/common/ottl_config.h"

namespace otlpd::processors::transform {
namespace {

using ottl::Context;

struct Group {
  Context context = Context::kSpan;
  std::vector<std::unique_ptr<ottl::Condition>> conditions;  // any selects the item
  std::vector<std::unique_ptr<ottl::Statement>> statements;
  ErrorMode mode = ErrorMode::kPropagate;
  bool flat = false;  // made of bare statements (consecutive ones of a context share a group)
};

class GroupEditor final : public OttlItemEditor {
 public:
  GroupEditor(const Group& group, ErrorReporter& errors, int64_t now)
      : group_(group), errors_(errors) {
    want(group.context);
    state_.now_unix_nanos = now;
  }
  const absl::Status& failure() const { return failure_; }

 protected:
  bool onItem(Context, ottl::WireItem& item) override {
    if (!failure_.ok()) return true;
    state_.resetCache();
    if (!group_.conditions.empty()) {
      bool selected = false;
      for (const auto& condition : group_.conditions) {
        absl::StatusOr<bool> holds = condition->evaluate(item, state_);
        if (!holds.ok()) {
          if (fail(strCat("condition \"", condition->text(),
                          "\": ", toStd(holds.status().message())))) {
            return true;
          }
          continue;
        }
        if (*holds) {
          selected = true;
          break;
        }
      }
      if (!selected) return true;
    }
    for (const auto& statement : group_.statements) {
      absl::StatusOr<bool> ran = statement->execute(item, state_);
      if (!ran.ok() &&
          fail(strCat("statement \"", statement->text(), "\": ", toStd(ran.status().message())))) {
        return true;
      }
    }
    return true;
  }

 private:
  // Reports; true when the error stops the batch (error_mode: propagate).
  bool fail(const std::string& message) {
    errors_.report(message);
    if (group_.mode != ErrorMode::kPropagate) return false;
    failure_ = absl::InvalidArgumentError(strCat("transform: ", message));
    return true;
  }

  const Group& group_;
  ErrorReporter& errors_;
  ottl::EvalState state_;
  absl::Status failure_;
};

class TransformProcessor final : public EditingProcessor {
 public:
  // Edits every batch, drops none: the next consumer's refusal is its answer.
  bool passesBackpressure() const override { return true; }
  TransformProcessor(const pipeline::CreateSettings& settings, pipeline::Signal signal,
                     std::shared_ptr<pipeline::Consumer> next, std::vector<Group> groups,
                     ErrorMode mode)
      : EditingProcessor(settings, signal, std::move(next)),
        groups_(std::move(groups)),
        errors_(settings, mode) {}

 protected:
  // One group edits in one walk, and then shares it with neighbouring processors; several groups
  // run one walk each, in order (a group sees what the groups before it did).
  bool editsInOneWalk() const override { return groups_.size() == 1; }
  std::unique_ptr<BatchEdit> beginEdit() override {
    if (groups_.size() != 1) return nullptr;
    return std::make_unique<FailingBatchEditOf<GroupEditor>>(groups_.front(), errors_,
                                                             absl::GetCurrentTimeNanos());
  }

  absl::StatusOr<otlp::RewriteResult> rewrite(std::string_view request) override {
    otlp::RewriteResult last;
    std::string current;
    bool changed = false;
    const int64_t now = absl::GetCurrentTimeNanos();
    for (const Group& group : groups_) {
      GroupEditor editor(group, errors_, now);
      absl::StatusOr<otlp::RewriteResult> result =
          editor.rewrite(signal(), changed ? std::string_view(current) : request);
      if (!editor.failure().ok()) return editor.failure();
      if (!result.ok()) return result.status();
      if (result->changed) {
        changed = true;
        current = std::move(result->bytes);
        last = *std::move(result);
      }
    }
    if (!changed) return otlp::RewriteResult{};
    last.changed = true;
    last.bytes = std::move(current);
    return last;
  }

 private:
  std::vector<Group> groups_;
  ErrorReporter errors_;
};

struct StatementsKey {
  std::string_view key;
  pipeline::Signal signal;
};
constexpr StatementsKey kKeys[] = {{"trace_statements", pipeline::Signal::kTraces},
                                   {"metric_statements", pipeline::Signal::kMetrics},
                                   {"log_statements", pipeline::Signal::kLogs}};

std::string contextList(pipeline::Signal signal) {
  std::vector<std::string> names;
  for (Context c : ottl::contextsOf(signal)) names.emplace_back(ottl::contextName(c));
  return absl::StrJoin(names, ", ");
}

bool contextAllowed(pipeline::Signal signal, Context context) {
  const std::vector<Context> allowed = ottl::contextsOf(signal);
  return std::find(allowed.begin(), allowed.end(), context) != allowed.end();
}

// Reads one `*_statements` list into groups.
std::vector<Group> readStatements(config::ConfigNode& config, const StatementsKey& key,
                                  ErrorMode default_mode) {
  std::vector<Group> groups;
  config::ConfigErrors& errors = config.errors();
  const std::optional<YAML::Node> found = config.getYaml(key.key);
  if (!found) return groups;
  const YAML::Node& list = *found;
  const std::string list_path = strCat(config.path(), ".", key.key);
  if (!list.IsSequence()) {
    config.addError(key.key, "must be a list of statements or of {context, statements} groups");
    return groups;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string path = strCat(list_path, "[", i, "]");
    if (item.IsScalar()) {
      const OttlSource source{item.Scalar(), path, item.Mark()};
      absl::StatusOr<Context> context = ottl::inferContext(source.text, key.signal, false);
      if (!context.ok()) {
        errors.add(path, item.Mark(),
                   strCat("invalid OTTL statement \"", source.text,
                          "\": ", toStd(context.status().message())));
        continue;
      }
      std::unique_ptr<ottl::Statement> s = compileStatement(errors, source, *context);
      if (!s) continue;
      if (groups.empty() || !groups.back().flat || groups.back().context != *context) {
        Group g;
        g.context = *context;
        g.mode = default_mode;
        g.flat = true;
        groups.push_back(std::move(g));
      }
      groups.back().statements.push_back(std::move(s));
      continue;
    }
    if (!item.IsMap()) {
      errors.add(path, item.Mark(), "must be a statement or a {context, statements} group");
      continue;
    }
    config::ConfigNode node(item, path, errors);
    Group g;
    g.mode = node.has("error_mode") ? readErrorMode(node, default_mode) : default_mode;
    const std::string context_name = node.getString("context", "");
    const std::vector<OttlSource> conditions = readOttlList(node, "conditions");
    const std::vector<OttlSource> statements = readOttlList(node, "statements");
    node.rejectUnknownKeys();
    if (statements.empty()) node.addError("statements", "a group needs at least one statement");
    std::optional<Context> context;
    if (!context_name.empty()) {
      context = ottl::contextFromName(context_name);
      if (!context || !contextAllowed(key.signal, *context)) {
        node.addError("context", strCat("unknown context \"", context_name, "\" for ", key.key,
                                        " (use one of ", contextList(key.signal), ")"));
        continue;
      }
    } else {
      // The innermost context any of the group's statements or conditions names.
      const std::vector<Context> order = ottl::contextsOf(key.signal);
      bool failed = false;
      auto consider = [&](const OttlSource& source, bool condition) {
        absl::StatusOr<Context> c = ottl::inferContext(source.text, key.signal, condition);
        if (!c.ok()) return;
        if (!context || std::find(order.begin(), order.end(), *c) >
                            std::find(order.begin(), order.end(), *context)) {
          context = *c;
        }
      };
      for (const OttlSource& s : statements) consider(s, false);
      for (const OttlSource& s : conditions) consider(s, true);
      if (!context) {
        node.addError("context", strCat("cannot infer the context: set context (",
                                        contextList(key.signal), ") or prefix the paths with it"));
        failed = true;
      }
      if (failed) continue;
    }
    g.context = *context;
    bool ok = true;
    for (const OttlSource& s : conditions) {
      std::unique_ptr<ottl::Condition> c = compileCondition(errors, s, g.context);
      if (c) {
        g.conditions.push_back(std::move(c));
      } else {
        ok = false;
      }
    }
    for (const OttlSource& s : statements) {
      std::unique_ptr<ottl::Statement> st = compileStatement(errors, s, g.context);
      if (st) {
        g.statements.push_back(std::move(st));
      } else {
        ok = false;
      }
    }
    if (ok) groups.push_back(std::move(g));
  }
  return groups;
}

class TransformProcessorFactory final : public pipeline::ProcessorFactory {
 public:
  std::string_view type() const override { return "transform"; }
  bool supports(pipeline::Signal) const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Processor>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config, pipeline::Signal signal,
      std::shared_ptr<pipeline::Consumer> next) const override {
    const ErrorMode mode = readErrorMode(config);
    std::vector<Group> mine;
    // Every list is checked whatever the pipeline's signal, so `otlpd validate` reports all.
    for (const StatementsKey& key : kKeys) {
      std::vector<Group> groups = readStatements(config, key, mode);
      if (key.signal == signal) mine = std::move(groups);
    }
    return std::make_unique<TransformProcessor>(settings, signal, std::move(next), std::move(mine),
                                                mode);
  }
};

}  // namespace

std::unique_ptr<pipeline::ProcessorFactory> makeTransformProcessorFactory() {
  return std::make_unique<TransformProcessorFactory>();
}

}  // namespace otlpd::processors::transform
