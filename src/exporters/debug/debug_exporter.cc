// The debug exporter, like the Collector's: what arrived, written to stdout for a human.
// basic: one line per batch with counts; normal: one line per span, data point or log record;
// detailed: every field.
#include "exporters/debug/debug_exporter.h"

#include <cstdio>
#include <mutex>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/strings.h"
#include "otlp/counts.h"

namespace otlpd::exporters::debug {
namespace {

using pipeline::Signal;
namespace pb = ::otlpd::otlp;

enum class Verbosity { kBasic, kNormal, kDetailed };

std::string hexId(const std::string& bytes) {
  return absl::BytesToHexString(bytes);
}

std::string timeText(uint64_t unix_nanos) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ",
                          absl::FromUnixNanos(static_cast<int64_t>(unix_nanos)),
                          absl::UTCTimeZone());
}

std::string valueText(const pb::pb_common::AnyValue& v) {
  using V = pb::pb_common::AnyValue;
  switch (v.value_case()) {
    case V::kStringValue:
      return strCat("Str(", v.string_value(), ")");
    case V::kBoolValue:
      return strCat("Bool(", v.bool_value() ? "true" : "false", ")");
    case V::kIntValue:
      return strCat("Int(", v.int_value(), ")");
    case V::kDoubleValue:
      return strCat("Double(", v.double_value(), ")");
    case V::kBytesValue:
      return strCat("Bytes(", absl::Base64Escape(v.bytes_value()), ")");
    case V::kArrayValue: {
      std::vector<std::string> items;
      for (const auto& e : v.array_value().values()) items.push_back(valueText(e));
      return strCat("Slice([", absl::StrJoin(items, ", "), "])");
    }
    case V::kKvlistValue: {
      std::vector<std::string> items;
      for (const auto& kv : v.kvlist_value().values()) {
        items.push_back(strCat(kv.key(), ": ", valueText(kv.value())));
      }
      return strCat("Map({", absl::StrJoin(items, ", "), "})");
    }
    case V::VALUE_NOT_SET:
      return "Empty()";
  }
  return "Empty()";
}

void appendAttributes(std::string& out, std::string_view indent, std::string_view title,
                      const google::protobuf::RepeatedPtrField<pb::pb_common::KeyValue>& attrs) {
  if (attrs.empty()) return;
  strAppend(&out, indent, title, ":\n");
  for (const auto& kv : attrs) {
    strAppend(&out, indent, "     -> ", kv.key(), ": ", valueText(kv.value()), "\n");
  }
}

std::string inlineAttributes(
    const google::protobuf::RepeatedPtrField<pb::pb_common::KeyValue>& attrs) {
  std::vector<std::string> items;
  for (const auto& kv : attrs) items.push_back(strCat(kv.key(), "=", valueText(kv.value())));
  return absl::StrJoin(items, " ");
}

std::string serviceName(const pb::pb_resource::Resource& r) {
  for (const auto& kv : r.attributes()) {
    if (kv.key() == "service.name") return kv.value().string_value();
  }
  return "";
}

void renderTraces(const pb::TracesRequest& req, Verbosity v, std::string& out) {
  for (int r = 0; r < req.resource_spans_size(); ++r) {
    const auto& rs = req.resource_spans(r);
    if (v == Verbosity::kDetailed) {
      strAppend(&out, "ResourceSpans #", r, "\n");
      appendAttributes(out, "", "Resource attributes", rs.resource().attributes());
    }
    for (int s = 0; s < rs.scope_spans_size(); ++s) {
      const auto& ss = rs.scope_spans(s);
      if (v == Verbosity::kDetailed) {
        strAppend(&out, "ScopeSpans #", s, "\nInstrumentationScope ", ss.scope().name(), " ",
                  ss.scope().version(), "\n");
      }
      for (int i = 0; i < ss.spans_size(); ++i) {
        const auto& span = ss.spans(i);
        if (v == Verbosity::kNormal) {
          strAppend(&out, serviceName(rs.resource()), " ", span.name(), " ", hexId(span.trace_id()),
                    " ", hexId(span.span_id()), " ", inlineAttributes(span.attributes()), "\n");
          continue;
        }
        strAppend(
            &out, "Span #", i, "\n    Trace ID       : ", hexId(span.trace_id()),
            "\n    Parent ID      : ", hexId(span.parent_span_id()),
            "\n    ID             : ", hexId(span.span_id()),
            "\n    Name           : ", span.name(),
            "\n    Kind           : ", pb::pb_trace::Span::SpanKind_Name(span.kind()),
            "\n    Start time     : ", timeText(span.start_time_unix_nano()),
            "\n    End time       : ", timeText(span.end_time_unix_nano()),
            "\n    Status code    : ", pb::pb_trace::Status::StatusCode_Name(span.status().code()),
            "\n    Status message : ", span.status().message(), "\n");
        appendAttributes(out, "", "Attributes", span.attributes());
        for (int e = 0; e < span.events_size(); ++e) {
          const auto& ev = span.events(e);
          strAppend(&out, "SpanEvent #", e, "\n     -> Name: ", ev.name(),
                    "\n     -> Timestamp: ", timeText(ev.time_unix_nano()), "\n");
          appendAttributes(out, "     ", "-> Attributes", ev.attributes());
        }
        for (int l = 0; l < span.links_size(); ++l) {
          const auto& link = span.links(l);
          strAppend(&out, "SpanLink #", l, "\n     -> Trace ID: ", hexId(link.trace_id()),
                    "\n     -> ID: ", hexId(link.span_id()), "\n");
          appendAttributes(out, "     ", "-> Attributes", link.attributes());
        }
      }
    }
  }
}

template <class Point>
void renderPointCommon(const Point& p, std::string& out) {
  strAppend(&out, "StartTimestamp: ", timeText(p.start_time_unix_nano()),
            "\nTimestamp: ", timeText(p.time_unix_nano()), "\n");
  appendAttributes(out, "", "Data point attributes", p.attributes());
}

void renderMetric(const pb::pb_metrics::Metric& m, Verbosity v, std::string& out) {
  using M = pb::pb_metrics::Metric;
  if (v == Verbosity::kNormal) {
    strAppend(&out, m.name(), " ", pb::countDataPoints(m), " points\n");
    return;
  }
  strAppend(&out, "Metric\n     -> Name: ", m.name(), "\n     -> Description: ", m.description(),
            "\n     -> Unit: ", m.unit(), "\n");
  auto number = [&](const pb::pb_metrics::NumberDataPoint& p) {
    renderPointCommon(p, out);
    if (p.value_case() == pb::pb_metrics::NumberDataPoint::kAsInt) {
      strAppend(&out, "Value: ", p.as_int(), "\n");
    } else {
      strAppend(&out, "Value: ", p.as_double(), "\n");
    }
  };
  switch (m.data_case()) {
    case M::kGauge:
      strAppend(&out, "     -> DataType: Gauge\n");
      for (const auto& p : m.gauge().data_points()) number(p);
      break;
    case M::kSum:
      strAppend(&out, "     -> DataType: Sum\n     -> IsMonotonic: ",
                m.sum().is_monotonic() ? "true" : "false", "\n     -> AggregationTemporality: ",
                pb::pb_metrics::AggregationTemporality_Name(m.sum().aggregation_temporality()),
                "\n");
      for (const auto& p : m.sum().data_points()) number(p);
      break;
    case M::kHistogram:
      strAppend(&out, "     -> DataType: Histogram\n");
      for (const auto& p : m.histogram().data_points()) {
        renderPointCommon(p, out);
        strAppend(&out, "Count: ", p.count(), "\nSum: ", p.sum(), "\nExplicitBounds: [",
                  absl::StrJoin(p.explicit_bounds(), ", "), "]\nBuckets: [",
                  absl::StrJoin(p.bucket_counts(), ", "), "]\n");
      }
      break;
    case M::kExponentialHistogram:
      strAppend(&out, "     -> DataType: ExponentialHistogram\n");
      for (const auto& p : m.exponential_histogram().data_points()) {
        renderPointCommon(p, out);
        strAppend(&out, "Count: ", p.count(), "\nScale: ", p.scale(),
                  "\nZeroCount: ", p.zero_count(), "\n");
      }
      break;
    case M::kSummary:
      strAppend(&out, "     -> DataType: Summary\n");
      for (const auto& p : m.summary().data_points()) {
        renderPointCommon(p, out);
        strAppend(&out, "Count: ", p.count(), "\nSum: ", p.sum(), "\n");
      }
      break;
    case M::DATA_NOT_SET:
      break;
  }
}

void renderMetrics(const pb::MetricsRequest& req, Verbosity v, std::string& out) {
  for (int r = 0; r < req.resource_metrics_size(); ++r) {
    const auto& rm = req.resource_metrics(r);
    if (v == Verbosity::kDetailed) {
      strAppend(&out, "ResourceMetrics #", r, "\n");
      appendAttributes(out, "", "Resource attributes", rm.resource().attributes());
    }
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& m : sm.metrics()) renderMetric(m, v, out);
    }
  }
}

void renderLogs(const pb::LogsRequest& req, Verbosity v, std::string& out) {
  for (int r = 0; r < req.resource_logs_size(); ++r) {
    const auto& rl = req.resource_logs(r);
    if (v == Verbosity::kDetailed) {
      strAppend(&out, "ResourceLog #", r, "\n");
      appendAttributes(out, "", "Resource attributes", rl.resource().attributes());
    }
    for (const auto& sl : rl.scope_logs()) {
      for (int i = 0; i < sl.log_records_size(); ++i) {
        const auto& log = sl.log_records(i);
        if (v == Verbosity::kNormal) {
          strAppend(&out, log.severity_text(), " ", valueText(log.body()), " ",
                    inlineAttributes(log.attributes()), "\n");
          continue;
        }
        strAppend(&out, "LogRecord #", i,
                  "\nObservedTimestamp: ", timeText(log.observed_time_unix_nano()),
                  "\nTimestamp: ", timeText(log.time_unix_nano()),
                  "\nSeverityText: ", log.severity_text(),
                  "\nSeverityNumber: ", static_cast<int>(log.severity_number()),
                  "\nBody: ", valueText(log.body()), "\n");
        appendAttributes(out, "", "Attributes", log.attributes());
        strAppend(&out, "Trace ID: ", hexId(log.trace_id()), "\nSpan ID: ", hexId(log.span_id()),
                  "\n");
      }
    }
  }
}

class DebugExporter final : public pipeline::Exporter {
 public:
  DebugExporter(Signal signal, Verbosity verbosity) : signal_(signal), verbosity_(verbosity) {}

  absl::Status start(pipeline::Host&) override { return absl::OkStatus(); }
  absl::Status shutdown() override { return absl::OkStatus(); }

  absl::Status consume(pipeline::Batch&& batch) override {
    std::string out;
    strAppend(&out, "debug: ", pipeline::signalName(signal_), " ", batch.itemCount(), " ",
              pipeline::itemName(signal_), "\n");
    if (verbosity_ != Verbosity::kBasic) {
      switch (signal_) {
        case Signal::kTraces:
          renderTraces(batch.traces(), verbosity_, out);
          break;
        case Signal::kMetrics:
          renderMetrics(batch.metrics(), verbosity_, out);
          break;
        case Signal::kLogs:
          renderLogs(batch.logs(), verbosity_, out);
          break;
      }
    }
    // One write per batch so that concurrent batches do not interleave.
    std::lock_guard lock(mutex_);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    return absl::OkStatus();
  }

 private:
  static inline std::mutex mutex_;
  Signal signal_;
  Verbosity verbosity_;
};

class DebugExporterFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "debug"; }
  bool supports(Signal) const override { return true; }
  absl::StatusOr<std::unique_ptr<pipeline::Exporter>> create(const pipeline::CreateSettings&,
                                                             config::ConfigNode& config,
                                                             Signal signal) const override {
    const std::string v = config.getString("verbosity", "basic");
    Verbosity verbosity = Verbosity::kBasic;
    if (v == "normal") {
      verbosity = Verbosity::kNormal;
    } else if (v == "detailed") {
      verbosity = Verbosity::kDetailed;
    } else if (v != "basic") {
      config.addError("verbosity", "must be basic, normal or detailed");
    }
    return std::make_unique<DebugExporter>(signal, verbosity);
  }
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> makeDebugExporterFactory() {
  return std::make_unique<DebugExporterFactory>();
}

}  // namespace otlpd::exporters::debug
