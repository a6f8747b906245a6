// Policies made of policies: and, drop, composite. Inside them an inverted answer counts as the
// plain one (the Collector's rule), and their own answer is sampled, not sampled or dropped.
#include <map>
#include <set>
#include <vector>

#include "common/strings.h"
#include "processors/tail_sampling/policies.h"

namespace otlpd::processors::tail_sampling {
namespace {

bool wantsSample(Decision d) {
  return d == Decision::kSampled || d == Decision::kInvertSampled;
}

// Sampled when every sub-policy samples. The first that does not decides (the later ones are not
// asked, so a rate_limiting placed last only counts the traces the others let through).
class And final : public Policy {
 public:
  explicit And(std::vector<std::unique_ptr<Policy>> subs) : subs_(std::move(subs)) {}

  Decision evaluate(const TraceView& trace, int64_t now) override {
    for (const auto& sub : subs_) {
      const Decision d = sub->evaluate(trace, now);
      if (d == Decision::kError) return Decision::kError;
      if (!wantsSample(d)) return Decision::kNotSampled;
    }
    return Decision::kSampled;
  }

 private:
  std::vector<std::unique_ptr<Policy>> subs_;
};

// Dropped when every sub-policy samples (the trace is then dropped whatever the other policies
// say); otherwise not sampled.
class Drop final : public Policy {
 public:
  explicit Drop(std::vector<std::unique_ptr<Policy>> subs) : subs_(std::move(subs)) {}

  Decision evaluate(const TraceView& trace, int64_t now) override {
    for (const auto& sub : subs_) {
      const Decision d = sub->evaluate(trace, now);
      if (d == Decision::kError) return Decision::kError;
      if (!wantsSample(d)) return Decision::kNotSampled;
    }
    return Decision::kDropped;
  }

 private:
  std::vector<std::unique_ptr<Policy>> subs_;
};

// Sub-policies asked in policy_order, each with a budget of spans per second (its rate_allocation
// share of max_total_spans_per_second), all together within max_total_spans_per_second. The first
// sub-policy that samples the trace and still has budget for its spans takes it. Budgets start
// again at each wall-clock second.
class Composite final : public Policy {
 public:
  struct Sub {
    std::unique_ptr<Policy> policy;
    int64_t budget = 0;  // spans per second
    int64_t spent = 0;   // in the current second
  };
  Composite(int64_t max_total, std::vector<Sub> subs)
      : max_total_(max_total), subs_(std::move(subs)) {}

  Decision evaluate(const TraceView& trace, int64_t now_unix_nanos) override {
    int64_t second = now_unix_nanos / 1'000'000'000;
    if (now_unix_nanos % 1'000'000'000 < 0) --second;
    if (second != second_) {
      second_ = second;
      spent_ = 0;
      for (Sub& sub : subs_) sub.spent = 0;
    }
    const int64_t spans = static_cast<int64_t>(trace.spans.size());
    for (Sub& sub : subs_) {
      const Decision d = sub.policy->evaluate(trace, now_unix_nanos);
      if (d == Decision::kError) return Decision::kError;
      if (!wantsSample(d)) continue;
      // Over its budget, the trace is offered to the next sub-policy (the Collector stops here
      // and drops it, leaving the later ones' budget unused).
      if (sub.spent + spans > sub.budget || spent_ + spans > max_total_) continue;
      sub.spent += spans;
      spent_ += spans;
      return Decision::kSampled;
    }
    return Decision::kNotSampled;
  }

 private:
  int64_t max_total_;
  std::vector<Sub> subs_;
  int64_t second_ = INT64_MIN;
  int64_t spent_ = 0;
};

// The sub-policies of list `key` at `level`; false when any has errors (or there is none).
bool readSubPolicies(config::ConfigNode& section, std::string_view key, PolicyLevel level,
                     std::vector<ReadPolicy>& out) {
  const size_t errors = section.errors().size();
  for (config::ConfigNode& node : section.getMappingList(key)) {
    out.push_back(readPolicy(node, level));
  }
  if (out.empty() && section.errors().size() == errors) {
    section.addError(key, "missing: a list of sub-policies");
  }
  for (const ReadPolicy& r : out) {
    if (r.policy == nullptr) return false;
  }
  return section.errors().size() == errors;
}

std::vector<std::unique_ptr<Policy>> policiesOf(std::vector<ReadPolicy>& read) {
  std::vector<std::unique_ptr<Policy>> out;
  for (ReadPolicy& r : read) out.push_back(std::move(r.policy));
  return out;
}

}  // namespace

std::unique_ptr<Policy> readAnd(config::ConfigNode& section) {
  std::vector<ReadPolicy> subs;
  if (!readSubPolicies(section, "and_sub_policy", PolicyLevel::kAnd, subs)) return nullptr;
  return std::make_unique<And>(policiesOf(subs));
}

std::unique_ptr<Policy> readDrop(config::ConfigNode& section) {
  std::vector<ReadPolicy> subs;
  if (!readSubPolicies(section, "drop_sub_policy", PolicyLevel::kDrop, subs)) return nullptr;
  return std::make_unique<Drop>(policiesOf(subs));
}

std::unique_ptr<Policy> readComposite(config::ConfigNode& section) {
  const size_t errors = section.errors().size();
  if (!section.has("max_total_spans_per_second")) {
    section.addError("max_total_spans_per_second",
                     "missing: the number of spans the composite samples per second");
  }
  const int64_t max_total = section.getInt("max_total_spans_per_second", 0, 1);
  const std::vector<std::string> order = section.getStringList("policy_order");
  std::vector<ReadPolicy> subs;
  const bool subs_ok =
      readSubPolicies(section, "composite_sub_policy", PolicyLevel::kComposite, subs);

  std::map<std::string, size_t, std::less<>> index;  // sub-policy name -> position in `subs`
  for (size_t i = 0; i < subs.size(); ++i) {
    if (!subs[i].name.empty() && !index.emplace(subs[i].name, i).second) {
      addListError(section, "composite_sub_policy", i,
                   strCat("duplicate sub-policy name \"", subs[i].name, "\""));
    }
  }

  // Budgets: a percentage of the total; a sub-policy without one (or with 0) gets an equal share,
  // as the Collector documents (and does since it fixed the zero budget of omitted ones).
  const double total = static_cast<double>(max_total);
  const int64_t equal_share =
      subs.empty() ? 0 : static_cast<int64_t>(total / static_cast<double>(subs.size()));
  std::vector<int64_t> budgets(subs.size(), equal_share);
  std::set<std::string, std::less<>> allocated;
  std::vector<config::ConfigNode> allocations = section.getMappingList("rate_allocation");
  for (config::ConfigNode& a : allocations) {
    const std::string policy = a.getString("policy", "");
    const int64_t percent = a.getInt("percent", 0, 0, 100);
    a.rejectUnknownKeys();
    if (policy.empty()) {
      a.addError("policy", "missing: the name of a composite_sub_policy");
      continue;
    }
    auto it = index.find(policy);
    if (it == index.end()) {
      if (subs_ok)
        a.addError("policy", strCat("no composite_sub_policy is named \"", policy, "\""));
      continue;
    }
    if (!allocated.insert(policy).second) {
      a.addError("policy", strCat("\"", policy, "\" has more than one rate_allocation"));
      continue;
    }
    if (percent > 0) {
      budgets[it->second] = static_cast<int64_t>(static_cast<double>(percent) / 100 * total);
    }
  }

  // Order: the names of policy_order first, then the sub-policies it leaves out, as configured.
  std::vector<size_t> sequence;
  std::vector<bool> placed(subs.size(), false);
  for (size_t i = 0; i < order.size(); ++i) {
    auto it = index.find(order[i]);
    if (it == index.end()) {
      if (subs_ok) {
        addListError(section, "policy_order", i,
                     strCat("no composite_sub_policy is named \"", order[i], "\""));
      }
      continue;
    }
    if (placed[it->second]) {
      addListError(section, "policy_order", i, strCat("\"", order[i], "\" is listed twice"));
      continue;
    }
    placed[it->second] = true;
    sequence.push_back(it->second);
  }
  for (size_t i = 0; i < subs.size(); ++i) {
    if (!placed[i]) sequence.push_back(i);
  }

  if (!subs_ok || section.errors().size() != errors) return nullptr;
  std::vector<Composite::Sub> ordered;
  for (size_t i : sequence) {
    ordered.push_back({std::move(subs[i].policy), budgets[i], 0});
  }
  return std::make_unique<Composite>(max_total, std::move(ordered));
}

}  // namespace otlpd::processors::tail_sampling
