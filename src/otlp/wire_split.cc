#include "otlp/wire_split.h"

#include <cstring>

#include "otlp/wire_writer.h"

namespace otlpd::otlp {
namespace {

// The request shape shared by the three signals (see the header).
constexpr uint32_t kRequestResources = 1;
constexpr uint32_t kResourceScopes = 2;
constexpr uint32_t kScopeItems = 2;

absl::Status malformed(std::string_view what) {
  return absl::InvalidArgumentError(std::string("malformed request: ") + std::string(what));
}

}  // namespace

std::string_view ItemWalker::envelope(std::string_view message, uint32_t children_field) {
  // Runs of fields other than the children, usually one run (envelope fields first or last).
  parts_.clear();
  wire::Reader reader(message);
  wire::Field field;
  const char* run_start = nullptr;
  while (!reader.done()) {
    const char* at = reader.position();
    if (reader.next(field) != wire::Stop::kNone) break;  // the item walk reports the fault
    if (field.number == children_field && field.type == wire::kLengthDelimited) {
      if (run_start != nullptr) parts_.emplace_back(run_start, at - run_start);
      run_start = nullptr;
    } else if (run_start == nullptr) {
      run_start = at;
    }
  }
  if (run_start != nullptr) parts_.emplace_back(run_start, reader.position() - run_start);
  if (parts_.empty()) return {};
  if (parts_.size() == 1) return parts_[0];
  std::string joined;
  for (std::string_view p : parts_) joined.append(p);
  return arena_.copy(joined);
}

absl::Status ItemWalker::walk(std::string_view request,
                              absl::FunctionRef<void(const ItemSlice&)> visit) {
  arena_.reset();
  ItemSlice slice{};
  uint32_t resource_index = 0;
  uint32_t scope_index = 0;
  wire::Reader requests(request);
  wire::Field r;
  while (!requests.done()) {
    if (requests.next(r) != wire::Stop::kNone) return malformed("request");
    if (r.number != kRequestResources || r.type != wire::kLengthDelimited) continue;
    slice.resource_envelope = envelope(r.bytes, kResourceScopes);
    slice.resource_index = resource_index++;
    wire::Reader resource(r.bytes);
    wire::Field s;
    while (!resource.done()) {
      if (resource.next(s) != wire::Stop::kNone) return malformed("resource");
      if (s.number != kResourceScopes || s.type != wire::kLengthDelimited) continue;
      slice.scope_envelope = envelope(s.bytes, kScopeItems);
      slice.scope_index = scope_index++;
      wire::Reader scope(s.bytes);
      wire::Field i;
      while (!scope.done()) {
        if (scope.next(i) != wire::Stop::kNone) return malformed("scope");
        if (i.number != kScopeItems || i.type != wire::kLengthDelimited) continue;
        slice.item = i.bytes;
        visit(slice);
      }
    }
  }
  return absl::OkStatus();
}

size_t metricPointCount(std::string_view metric) {
  size_t points = 0;
  uint32_t member = 0;
  wire::Reader reader(metric);
  wire::Field f;
  while (!reader.done() && reader.next(f) == wire::Stop::kNone) {
    const bool data = f.number == fields::kMetricGauge || f.number == fields::kMetricSum ||
                      f.number == fields::kMetricHistogram ||
                      f.number == fields::kMetricExponentialHistogram ||
                      f.number == fields::kMetricSummary;
    if (!data || f.type != wire::kLengthDelimited) continue;
    // A oneof: the last data member wins, as protobuf keeps it; the same member again is merged
    // into it, so its points add up.
    if (f.number != member) {
      member = f.number;
      points = 0;
    }
    wire::Reader inner(f.bytes);
    wire::Field p;
    while (!inner.done() && inner.next(p) == wire::Stop::kNone) {
      points += p.number == fields::kDataPoints && p.type == wire::kLengthDelimited;
    }
  }
  return points;
}

std::string_view resourceStringAttribute(std::string_view resource_envelope, std::string_view key) {
  constexpr uint32_t kEnvelopeResource = 1;
  constexpr uint32_t kKeyValueKey = 1, kKeyValueValue = 2, kAnyValueString = 1;
  std::string_view found;
  wire::Reader envelope(resource_envelope);
  wire::Field f;
  while (!envelope.done() && envelope.next(f) == wire::Stop::kNone) {
    if (f.number != kEnvelopeResource || f.type != wire::kLengthDelimited) continue;
    wire::Reader resource(f.bytes);
    wire::Field a;
    while (!resource.done() && resource.next(a) == wire::Stop::kNone) {
      if (a.number != fields::kResourceAttributes || a.type != wire::kLengthDelimited) continue;
      if (wire::lastLengthDelimited(a.bytes, kKeyValueKey) != key) continue;
      const std::string_view value = wire::lastLengthDelimited(a.bytes, kKeyValueValue);
      // Only a string value counts; protobuf keeps the last key/value, and so do we.
      wire::Reader any(value);
      wire::Field v;
      std::string_view text;
      bool is_string = false;
      while (!any.done() && any.next(v) == wire::Stop::kNone) {
        is_string = v.number == kAnyValueString && v.type == wire::kLengthDelimited;
        if (is_string) text = v.bytes;
      }
      found = is_string ? text : std::string_view();
    }
  }
  return found;
}

void RequestBuilder::add(std::string_view resource_envelope, std::string_view scope_envelope,
                         std::string_view item) {
  auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           (a.data() == b.data() || std::memcmp(a.data(), b.data(), a.size()) == 0);
  };
  Resource* resource = nullptr;
  // Most items follow one of their own resource; otherwise look back over the few there are.
  for (size_t i = used_resources_; i > 0; --i) {
    if (same(resources_[i - 1].envelope, resource_envelope)) {
      resource = &resources_[i - 1];
      break;
    }
  }
  if (resource == nullptr) {
    if (used_resources_ == resources_.size()) resources_.emplace_back();
    resource = &resources_[used_resources_++];
    resource->envelope = resource_envelope;
    resource->scopes.clear();
    resource->size = resource_envelope.size();
  }
  Scope* scope = nullptr;
  if (!resource->scopes.empty() && same(resource->scopes.back().envelope, scope_envelope)) {
    scope = &resource->scopes.back();
  } else {
    for (Scope& s : resource->scopes) {
      if (same(s.envelope, scope_envelope)) {
        scope = &s;
        break;
      }
    }
  }
  if (scope == nullptr) {
    scope = &resource->scopes.emplace_back();
    scope->envelope = scope_envelope;
    scope->size = scope_envelope.size();
  }
  scope->items.push_back(item);
  scope->size += wire::lengthDelimitedSize(kScopeItems, item.size());
  ++items_;
}

std::string RequestBuilder::finish() {
  std::string out;
  finishInto(out);
  return out;
}

void RequestBuilder::finishInto(std::string& out) {
  // Sizes of nested messages are known from the bottom up; each scope's size is kept as items
  // are added, each resource's is summed here.
  size_t total = 0;
  for (size_t r = 0; r < used_resources_; ++r) {
    Resource& resource = resources_[r];
    resource.size = resource.envelope.size();
    for (const Scope& scope : resource.scopes) {
      resource.size += wire::lengthDelimitedSize(kResourceScopes, scope.size);
    }
    total += wire::lengthDelimitedSize(kRequestResources, resource.size);
  }
  out.clear();
  out.reserve(total);
  for (size_t r = 0; r < used_resources_; ++r) {
    const Resource& resource = resources_[r];
    wire::appendTag(kRequestResources, wire::kLengthDelimited, out);
    wire::appendVarint(resource.size, out);
    out.append(resource.envelope);
    for (const Scope& scope : resource.scopes) {
      wire::appendTag(kResourceScopes, wire::kLengthDelimited, out);
      wire::appendVarint(scope.size, out);
      out.append(scope.envelope);
      for (std::string_view item : scope.items) wire::appendLengthDelimited(kScopeItems, item, out);
    }
  }
  for (size_t r = 0; r < used_resources_; ++r) {
    for (Scope& s : resources_[r].scopes) s.items.clear();
    resources_[r].scopes.clear();
  }
  used_resources_ = 0;
  items_ = 0;
}

}  // namespace otlpd::otlp
