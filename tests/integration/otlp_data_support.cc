#include "otlp_data_support.h"

#include <thread>

#include "common/strings.h"
#include "otlp/json_codec.h"

namespace otlpd::integration {
namespace {

namespace pb_common = otlp::pb_common;
namespace pb_trace = otlp::pb_trace;
namespace pb_metrics = otlp::pb_metrics;
namespace pb_logs = otlp::pb_logs;

constexpr uint64_t kStartNanos = 1'700'000'000'000'000'000ULL;

// Distinct, non-zero ids of the exact length, so only the defects a test adds make an item bad.
std::string id(size_t length, uint64_t seed) {
  std::string out(length, '\0');
  for (size_t i = 0; i < length; ++i) {
    out[i] = static_cast<char>(((seed + 1) * 131 + i * 7 + 1) & 0xff);
  }
  out[0] = static_cast<char>(0x5a);  // never all zero
  return out;
}

void addServiceName(pb_common::KeyValue* kv) {
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("otlpd-integration-test");
}

pb_trace::Span* addSpan(pb_trace::ScopeSpans* scope, std::string name, uint64_t seed) {
  pb_trace::Span* span = scope->add_spans();
  span->set_name(std::move(name));
  span->set_trace_id(id(16, seed));
  span->set_span_id(id(8, seed + 1000));
  span->set_parent_span_id(id(8, seed + 2000));
  span->set_kind(pb_trace::Span::SPAN_KIND_SERVER);
  span->set_start_time_unix_nano(kStartNanos + seed);
  span->set_end_time_unix_nano(kStartNanos + seed + 1000);
  pb_common::KeyValue* attr = span->add_attributes();
  attr->set_key("test.index");
  attr->mutable_value()->set_int_value(static_cast<int64_t>(seed));
  return span;
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A tag matches "<tag>" and "<tag>-..." but not "<tag>x".
bool hasTag(std::string_view name, std::string_view tag) {
  return startsWith(name, tag) && (name.size() == tag.size() || name[tag.size()] == '-');
}

}  // namespace

std::string bytesFromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

otlp::TracesRequest makeTraces(std::string_view tag, size_t valid,
                               const std::vector<BadSpan>& bad) {
  otlp::TracesRequest req;
  pb_trace::ResourceSpans* rs = req.add_resource_spans();
  addServiceName(rs->mutable_resource()->add_attributes());
  pb_trace::ScopeSpans* scope = rs->add_scope_spans();
  scope->mutable_scope()->set_name("otlpd.integration");
  for (size_t i = 0; i < valid; ++i) addSpan(scope, strCat(tag, "-", i), i);
  for (size_t i = 0; i < bad.size(); ++i) {
    pb_trace::Span* span = addSpan(scope, strCat(tag, "-bad-", i), 100 + i);
    switch (bad[i]) {
      case BadSpan::kZeroTraceId:
        span->set_trace_id(std::string(16, '\0'));
        break;
      case BadSpan::kShortSpanId:
        span->set_span_id(id(7, i));
        break;
      case BadSpan::kShortParentSpanId:
        span->set_parent_span_id(id(4, i));
        break;
      case BadSpan::kEndBeforeStart:
        span->set_end_time_unix_nano(span->start_time_unix_nano() - 1);
        break;
    }
  }
  return req;
}

otlp::MetricsRequest makeMetrics(std::string_view tag, size_t valid, size_t bad_histogram_points) {
  otlp::MetricsRequest req;
  pb_metrics::ResourceMetrics* rm = req.add_resource_metrics();
  addServiceName(rm->mutable_resource()->add_attributes());
  pb_metrics::ScopeMetrics* scope = rm->add_scope_metrics();
  scope->mutable_scope()->set_name("otlpd.integration");
  if (valid > 0) {
    pb_metrics::Metric* gauge = scope->add_metrics();
    gauge->set_name(std::string(tag));
    gauge->set_unit("1");
    for (size_t i = 0; i < valid; ++i) {
      pb_metrics::NumberDataPoint* p = gauge->mutable_gauge()->add_data_points();
      p->set_time_unix_nano(kStartNanos + i);
      p->set_as_double(static_cast<double>(i) + 0.5);
      pb_common::KeyValue* attr = p->add_attributes();
      attr->set_key("test.index");
      attr->mutable_value()->set_int_value(static_cast<int64_t>(i));
    }
  }
  if (bad_histogram_points > 0) {
    pb_metrics::Metric* hist = scope->add_metrics();
    hist->set_name(strCat(tag, "-hist"));
    hist->mutable_histogram()->set_aggregation_temporality(
        pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
    pb_metrics::HistogramDataPoint* good = hist->mutable_histogram()->add_data_points();
    good->set_time_unix_nano(kStartNanos);
    good->add_explicit_bounds(1.0);
    good->add_explicit_bounds(10.0);
    for (uint64_t c : {1, 2, 3}) good->add_bucket_counts(c);
    good->set_count(6);
    good->set_sum(30.0);
    for (size_t i = 0; i < bad_histogram_points; ++i) {
      pb_metrics::HistogramDataPoint* p = hist->mutable_histogram()->add_data_points();
      p->set_time_unix_nano(kStartNanos + 1 + i);
      p->add_explicit_bounds(1.0);
      p->add_explicit_bounds(10.0);
      // Two buckets for two bounds: one short. count still matches, so this is the only defect.
      p->add_bucket_counts(1);
      p->add_bucket_counts(2);
      p->set_count(3);
    }
  }
  return req;
}

otlp::LogsRequest makeLogs(std::string_view tag, size_t valid, size_t bad_trace_id) {
  otlp::LogsRequest req;
  pb_logs::ResourceLogs* rl = req.add_resource_logs();
  addServiceName(rl->mutable_resource()->add_attributes());
  pb_logs::ScopeLogs* scope = rl->add_scope_logs();
  scope->mutable_scope()->set_name("otlpd.integration");
  auto add = [&](std::string body, uint64_t seed) {
    pb_logs::LogRecord* r = scope->add_log_records();
    r->set_time_unix_nano(kStartNanos + seed);
    r->set_observed_time_unix_nano(kStartNanos + seed + 1);
    r->set_severity_number(pb_logs::SEVERITY_NUMBER_INFO);
    r->set_severity_text("INFO");
    r->mutable_body()->set_string_value(std::move(body));
    return r;
  };
  for (size_t i = 0; i < valid; ++i) {
    pb_logs::LogRecord* r = add(strCat(tag, "-", i), i);
    if (i == 0) {
      r->set_trace_id(id(16, i));
      r->set_span_id(id(8, i));
    }
  }
  for (size_t i = 0; i < bad_trace_id; ++i) {
    add(strCat(tag, "-bad-", i), 100 + i)->set_trace_id(id(5, i));
  }
  return req;
}

ItemCounts countTraceLines(const std::vector<std::string>& lines, std::string_view tag,
                           size_t* unparsed) {
  ItemCounts counts;
  for (const std::string& line : lines) {
    otlp::TracesRequest req;
    if (!otlp::parseOtlpJson(line, req).ok()) {
      if (unparsed != nullptr) ++*unparsed;
      continue;
    }
    for (const auto& rs : req.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) {
          ++counts.spans;
          if (hasTag(span.name(), tag)) ++counts.tagged;
        }
      }
    }
  }
  return counts;
}

ItemCounts countMetricLines(const std::vector<std::string>& lines, std::string_view tag,
                            size_t* unparsed) {
  ItemCounts counts;
  for (const std::string& line : lines) {
    otlp::MetricsRequest req;
    if (!otlp::parseOtlpJson(line, req).ok()) {
      if (unparsed != nullptr) ++*unparsed;
      continue;
    }
    for (const auto& rm : req.resource_metrics()) {
      for (const auto& sm : rm.scope_metrics()) {
        for (const auto& m : sm.metrics()) {
          size_t points = 0;
          points += static_cast<size_t>(m.gauge().data_points_size());
          points += static_cast<size_t>(m.sum().data_points_size());
          points += static_cast<size_t>(m.histogram().data_points_size());
          points += static_cast<size_t>(m.exponential_histogram().data_points_size());
          points += static_cast<size_t>(m.summary().data_points_size());
          counts.data_points += points;
          if (hasTag(m.name(), tag)) counts.tagged += points;
        }
      }
    }
  }
  return counts;
}

ItemCounts countLogLines(const std::vector<std::string>& lines, std::string_view tag,
                         size_t* unparsed) {
  ItemCounts counts;
  for (const std::string& line : lines) {
    otlp::LogsRequest req;
    if (!otlp::parseOtlpJson(line, req).ok()) {
      if (unparsed != nullptr) ++*unparsed;
      continue;
    }
    for (const auto& rl : req.resource_logs()) {
      for (const auto& sl : rl.scope_logs()) {
        for (const auto& r : sl.log_records()) {
          ++counts.log_records;
          if (hasTag(r.body().string_value(), tag)) ++counts.tagged;
        }
      }
    }
  }
  return counts;
}

std::vector<std::string> taggedSpanNames(const std::vector<std::string>& lines,
                                         std::string_view tag) {
  std::vector<std::string> names;
  for (const std::string& line : lines) {
    otlp::TracesRequest req;
    if (!otlp::parseOtlpJson(line, req).ok()) continue;
    for (const auto& rs : req.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) {
          if (hasTag(span.name(), tag)) names.push_back(span.name());
        }
      }
    }
  }
  return names;
}

std::string_view fileFor(SignalFile signal) {
  switch (signal) {
    case SignalFile::kTraces:
      return "traces.jsonl";
    case SignalFile::kMetrics:
      return "metrics.jsonl";
    case SignalFile::kLogs:
      return "logs.jsonl";
  }
  return {};
}

size_t waitForTaggedItems(const OtlpdProcess& process, SignalFile signal, std::string_view tag,
                          size_t expected, size_t* unparsed, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::vector<std::string> lines = process.readJsonLines(fileFor(signal));
    size_t bad_lines = 0;
    size_t found = 0;
    switch (signal) {
      case SignalFile::kTraces:
        found = countTraceLines(lines, tag, &bad_lines).tagged;
        break;
      case SignalFile::kMetrics:
        found = countMetricLines(lines, tag, &bad_lines).tagged;
        break;
      case SignalFile::kLogs:
        found = countLogLines(lines, tag, &bad_lines).tagged;
        break;
    }
    if (found >= expected || std::chrono::steady_clock::now() >= deadline) {
      if (unparsed != nullptr) *unparsed += bad_lines;
      return found;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

otlp::TracesRequest makeLargeTraces(std::string_view tag, size_t bytes) {
  otlp::TracesRequest req = makeTraces(tag, 1);
  pb_common::KeyValue* attr =
      req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->add_attributes();
  attr->set_key("test.padding");
  attr->mutable_value()->set_string_value(std::string(bytes, 'x'));
  return req;
}

}  // namespace otlpd::integration
