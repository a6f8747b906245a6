// readPolicies() and combine(): the policy list of a tail_sampling config, and the Collector's
// precedence over what the policies answered.
#include "processors/tail_sampling/policies.h"

#include <array>
#include <set>

#include "common/strings.h"

namespace otlpd::processors::tail_sampling {
namespace {

constexpr uint8_t kAtTop = 1 << static_cast<int>(PolicyLevel::kTop);
constexpr uint8_t kInAnd = 1 << static_cast<int>(PolicyLevel::kAnd);
constexpr uint8_t kInComposite = 1 << static_cast<int>(PolicyLevel::kComposite);
constexpr uint8_t kInDrop = 1 << static_cast<int>(PolicyLevel::kDrop);
constexpr uint8_t kAnywhere = kAtTop | kInAnd | kInComposite | kInDrop;

struct PolicyType {
  std::string_view name;
  uint8_t levels;  // where a policy of this type may appear
  // Reads the section named like the type; null for always_sample, which has none.
  std::unique_ptr<Policy> (*read)(config::ConfigNode& section);
};

constexpr std::array<PolicyType, 15> kTypes = {{
    {"always_sample", kAnywhere, nullptr},
    {"latency", kAnywhere, readLatency},
    {"numeric_attribute", kAnywhere, readNumericAttribute},
    {"probabilistic", kAnywhere, readProbabilistic},
    {"status_code", kAnywhere, readStatusCode},
    {"string_attribute", kAnywhere, readStringAttribute},
    {"rate_limiting", kAnywhere, readRateLimiting},
    {"bytes_limiting", kAnywhere, readBytesLimiting},
    {"span_count", kAnywhere, readSpanCount},
    {"trace_state", kAnywhere, readTraceState},
    {"boolean_attribute", kAnywhere, readBooleanAttribute},
    {"ottl_condition", kAnywhere, readOttlCondition},
    {"and", kAtTop | kInComposite, readAnd},
    {"composite", kAtTop, readComposite},
    {"drop", kAtTop, readDrop},
}};

std::string typeList(uint8_t level_bit) {
  std::string out;
  for (const PolicyType& t : kTypes) {
    if ((t.levels & level_bit) == 0) continue;
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  return out;
}

std::string_view levelName(PolicyLevel level) {
  switch (level) {
    case PolicyLevel::kTop:
      return "the policies list";
    case PolicyLevel::kAnd:
      return "an and policy";
    case PolicyLevel::kComposite:
      return "a composite policy";
    case PolicyLevel::kDrop:
      return "a drop policy";
  }
  return "";
}

}  // namespace

void addListError(config::ConfigNode& node, std::string_view key, size_t index,
                  std::string message) {
  YAML::Mark mark = YAML::Mark::null_mark();
  if (node.yaml().IsMap()) {
    const YAML::Node& map = node.yaml();
    const YAML::Node list = map[std::string(key)];
    if (list.IsSequence() && index < list.size()) mark = list[index].Mark();
  }
  const std::string path = node.path().empty() ? std::string(key) : strCat(node.path(), ".", key);
  node.errors().add(strCat(path, "[", index, "]"), mark, std::move(message));
}

ReadPolicy readPolicy(config::ConfigNode& node, PolicyLevel level) {
  ReadPolicy out;
  const size_t errors = node.errors().size();
  const uint8_t level_bit = static_cast<uint8_t>(1 << static_cast<int>(level));
  out.name = node.getString("name", "");
  out.type = node.getString("type", "");
  // Names label the per-policy metrics, and a composite's policy_order / rate_allocation refer to
  // its sub-policies by name.
  if (out.name.empty() && (level == PolicyLevel::kTop || level == PolicyLevel::kComposite)) {
    node.addError("name", "missing: every policy needs a name");
  }
  const PolicyType* type = nullptr;
  for (const PolicyType& t : kTypes) {
    if (t.name == out.type) type = &t;
  }
  bool valid = true;
  if (out.type.empty()) {
    node.addError("type", strCat("missing: one of ", typeList(level_bit)));
    valid = false;
  } else if (type == nullptr) {
    node.addError("type", strCat("unknown policy type \"", out.type, "\" (expected one of ",
                                 typeList(level_bit), ")"));
    valid = false;
  } else if ((type->levels & level_bit) == 0) {
    node.addError("type", strCat("a policy of type ", out.type, " cannot be used in ",
                                 levelName(level), " (expected one of ", typeList(level_bit), ")"));
    valid = false;
  }
  // The Collector's config struct has a section for every type and ignores the others; a section
  // that does not match the type is a mistake (e.g. `type: boolean_attribute` configured under
  // `string_attribute:`), so it is reported instead of silently ignored.
  for (const PolicyType& t : kTypes) {
    if (t.read == nullptr || (valid && &t == type) || !node.has(t.name)) continue;
    (void)node.getYaml(t.name);
    if (valid) {
      node.addError(t.name, strCat("configures a policy of type ", t.name,
                                   ", but this policy's type is ", out.type));
    }
  }
  if (valid) {
    if (type->read == nullptr) {
      out.policy = makeAlwaysSample();
    } else {
      config::ConfigNode section = node.child(type->name);
      out.policy = type->read(section);
      section.rejectUnknownKeys();
    }
  }
  node.rejectUnknownKeys();
  // A policy with any mistake is left out as a whole (the config is invalid anyway).
  if (node.errors().size() != errors) out.policy.reset();
  return out;
}

std::vector<NamedPolicy> readPolicies(config::ConfigNode& processor_config) {
  std::vector<NamedPolicy> out;
  std::set<std::string, std::less<>> names;
  for (config::ConfigNode& node : processor_config.getMappingList("policies")) {
    ReadPolicy read = readPolicy(node, PolicyLevel::kTop);
    if (!read.name.empty() && !names.insert(read.name).second) {
      node.addError("name", strCat("duplicate policy name \"", read.name, "\""));
      continue;
    }
    if (read.policy == nullptr) continue;
    out.push_back({std::move(read.name), std::move(read.type), std::move(read.policy)});
  }
  return out;
}

FinalDecision combine(std::span<const Decision> decisions) {
  constexpr size_t kNone = static_cast<size_t>(-1);
  // The first policy that answered each decision.
  std::array<size_t, 6> first;
  first.fill(kNone);
  for (size_t i = 0; i < decisions.size(); ++i) {
    const size_t d = static_cast<size_t>(decisions[i]);
    if (d < first.size() && first[d] == kNone) first[d] = i;
  }
  auto at = [&](Decision d) { return first[static_cast<size_t>(d)]; };
  if (at(Decision::kDropped) != kNone) return {false, at(Decision::kDropped)};
  if (at(Decision::kInvertNotSampled) != kNone) return {false, at(Decision::kInvertNotSampled)};
  if (at(Decision::kSampled) != kNone) return {true, at(Decision::kSampled)};
  // As in the Collector, an inverted "sample" keeps the trace only when no policy said "not
  // sampled".
  if (at(Decision::kInvertSampled) != kNone && at(Decision::kNotSampled) == kNone) {
    return {true, at(Decision::kInvertSampled)};
  }
  return {false, kNone};
}

}  // namespace otlpd::processors::tail_sampling
