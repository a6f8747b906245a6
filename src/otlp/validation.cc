#include "otlp/validation.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"
#include "otlp/counts.h"

namespace otlpd::otlp {
namespace {

using google::protobuf::RepeatedPtrField;

bool allZero(const std::string& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}
bool validTraceId(const std::string& id) {
  return id.size() == 16 && !allZero(id);
}
bool validSpanId(const std::string& id) {
  return id.size() == 8 && !allZero(id);
}

// Counts rejections per reason and remembers where each reason was first seen, so the message
// stays short however many items were bad.
class Rejections {
 public:
  void add(const std::string& reason, const std::string& where, size_t items = 1) {
    auto& r = reasons_[reason];
    if (r.count == 0) r.first = where;
    r.count += items;
    total_ += items;
  }
  ValidationResult result(std::string_view item_name, size_t total_items) const {
    ValidationResult out;
    out.rejected = total_;
    if (total_ == 0) return out;
    std::vector<std::string> parts;
    for (const auto& [reason, r] : reasons_) {
      parts.push_back(strCat(r.count, " ", reason, " (first at ", r.first, ")"));
    }
    out.error_message = strCat("rejected ", total_, " of ", total_items, " ", item_name, ": ",
                               absl::StrJoin(parts, "; "));
    return out;
  }

 private:
  struct Reason {
    size_t count = 0;
    std::string first;
  };
  std::map<std::string, Reason> reasons_;
  size_t total_ = 0;
};

// Removes the elements `reject` returns a reason for, keeping order, without copying messages.
template <class T, class Check>
void removeInvalid(RepeatedPtrField<T>* items, Check&& check) {
  int keep = 0;
  for (int i = 0; i < items->size(); ++i) {
    if (!check(items->Get(i), i)) {
      if (keep != i) items->SwapElements(keep, i);
      ++keep;
    }
  }
  if (keep != items->size()) items->DeleteSubrange(keep, items->size() - keep);
}

std::string spanWhere(int r, int s, int i) {
  return strCat("resourceSpans[", r, "].scopeSpans[", s, "].spans[", i, "]");
}

const char* spanProblem(const pb_trace::Span& span) {
  if (!validTraceId(span.trace_id())) {
    return "spans with an invalid trace_id (must be 16 bytes, not all zero)";
  }
  if (!validSpanId(span.span_id())) {
    return "spans with an invalid span_id (must be 8 bytes, not all zero)";
  }
  if (!span.parent_span_id().empty() && span.parent_span_id().size() != 8) {
    return "spans with an invalid parent_span_id (must be empty or 8 bytes)";
  }
  if (span.end_time_unix_nano() < span.start_time_unix_nano()) {
    return "spans whose end time is before their start time";
  }
  for (const auto& link : span.links()) {
    if (link.trace_id().size() != 16 || link.span_id().size() != 8) {
      return "spans with a link whose trace_id or span_id has the wrong length";
    }
  }
  return nullptr;
}

template <class Point>
bool exemplarsValid(const Point& p) {
  for (const auto& e : p.exemplars()) {
    if ((!e.trace_id().empty() && e.trace_id().size() != 16) ||
        (!e.span_id().empty() && e.span_id().size() != 8)) {
      return false;
    }
  }
  return true;
}

constexpr const char* kBadExemplar =
    "data points with an exemplar whose trace_id or span_id has the wrong length";

const char* pointProblem(const pb_metrics::NumberDataPoint& p) {
  return exemplarsValid(p) ? nullptr : kBadExemplar;
}

const char* pointProblem(const pb_metrics::HistogramDataPoint& p) {
  if (p.bucket_counts_size() != 0 && p.bucket_counts_size() != p.explicit_bounds_size() + 1) {
    return "histogram data points whose bucket_counts length is not explicit_bounds + 1";
  }
  for (int i = 0; i < p.explicit_bounds_size(); ++i) {
    if (std::isnan(p.explicit_bounds(i)) ||
        (i > 0 && p.explicit_bounds(i) <= p.explicit_bounds(i - 1))) {
      return "histogram data points whose explicit_bounds are not strictly increasing";
    }
  }
  if (p.bucket_counts_size() != 0) {
    uint64_t total = 0;
    for (uint64_t c : p.bucket_counts()) total += c;
    if (total != p.count())
      return "histogram data points whose bucket_counts do not add up to count";
  }
  return exemplarsValid(p) ? nullptr : kBadExemplar;
}

const char* pointProblem(const pb_metrics::ExponentialHistogramDataPoint& p) {
  uint64_t total = p.zero_count();
  for (uint64_t c : p.positive().bucket_counts()) total += c;
  for (uint64_t c : p.negative().bucket_counts()) total += c;
  if (total != p.count()) {
    return "exponential histogram data points whose zero_count and buckets do not add up to count";
  }
  return exemplarsValid(p) ? nullptr : kBadExemplar;
}

const char* pointProblem(const pb_metrics::SummaryDataPoint& p) {
  for (const auto& q : p.quantile_values()) {
    if (!(q.quantile() >= 0.0 && q.quantile() <= 1.0)) {
      return "summary data points with a quantile outside [0, 1]";
    }
  }
  return nullptr;
}

template <class Points>
void validatePoints(Points* points, const std::string& where, Rejections& rejections) {
  removeInvalid(points, [&](const auto& p, int i) {
    const char* problem = pointProblem(p);
    if (problem != nullptr) rejections.add(problem, strCat(where, ".dataPoints[", i, "]"));
    return problem != nullptr;
  });
}

}  // namespace

ValidationResult validateTraces(TracesRequest& request) {
  Rejections rejections;
  size_t total = 0;
  for (int r = 0; r < request.resource_spans_size(); ++r) {
    auto* rs = request.mutable_resource_spans(r);
    for (int s = 0; s < rs->scope_spans_size(); ++s) {
      auto* spans = rs->mutable_scope_spans(s)->mutable_spans();
      total += static_cast<size_t>(spans->size());
      removeInvalid(spans, [&](const pb_trace::Span& span, int i) {
        const char* problem = spanProblem(span);
        if (problem != nullptr) rejections.add(problem, spanWhere(r, s, i));
        return problem != nullptr;
      });
    }
  }
  return rejections.result("spans", total);
}

ValidationResult validateMetrics(MetricsRequest& request) {
  Rejections rejections;
  size_t total = 0;
  for (int r = 0; r < request.resource_metrics_size(); ++r) {
    auto* rm = request.mutable_resource_metrics(r);
    for (int s = 0; s < rm->scope_metrics_size(); ++s) {
      auto* metrics = rm->mutable_scope_metrics(s)->mutable_metrics();
      for (int m = 0; m < metrics->size(); ++m) {
        pb_metrics::Metric* metric = metrics->Mutable(m);
        const std::string where =
            strCat("resourceMetrics[", r, "].scopeMetrics[", s, "].metrics[", m, "]");
        const size_t points = countDataPoints(*metric);
        total += points;
        if (metric->name().empty()) {
          rejections.add("data points of a metric without a name", where, points);
          metric->clear_data();
          continue;
        }
        switch (metric->data_case()) {
          case pb_metrics::Metric::kGauge:
            validatePoints(metric->mutable_gauge()->mutable_data_points(), where + ".gauge",
                           rejections);
            break;
          case pb_metrics::Metric::kSum:
            validatePoints(metric->mutable_sum()->mutable_data_points(), where + ".sum",
                           rejections);
            break;
          case pb_metrics::Metric::kHistogram:
            validatePoints(metric->mutable_histogram()->mutable_data_points(), where + ".histogram",
                           rejections);
            break;
          case pb_metrics::Metric::kExponentialHistogram:
            validatePoints(metric->mutable_exponential_histogram()->mutable_data_points(),
                           where + ".exponentialHistogram", rejections);
            break;
          case pb_metrics::Metric::kSummary:
            validatePoints(metric->mutable_summary()->mutable_data_points(), where + ".summary",
                           rejections);
            break;
          case pb_metrics::Metric::DATA_NOT_SET:
            break;
        }
      }
    }
  }
  return rejections.result("data points", total);
}

ValidationResult validateLogs(LogsRequest& request) {
  Rejections rejections;
  size_t total = 0;
  for (int r = 0; r < request.resource_logs_size(); ++r) {
    auto* rl = request.mutable_resource_logs(r);
    for (int s = 0; s < rl->scope_logs_size(); ++s) {
      auto* records = rl->mutable_scope_logs(s)->mutable_log_records();
      total += static_cast<size_t>(records->size());
      removeInvalid(records, [&](const pb_logs::LogRecord& log, int i) {
        const char* problem = nullptr;
        if (!log.trace_id().empty() && log.trace_id().size() != 16) {
          problem = "log records with an invalid trace_id (must be empty or 16 bytes)";
        } else if (!log.span_id().empty() && log.span_id().size() != 8) {
          problem = "log records with an invalid span_id (must be empty or 8 bytes)";
        } else if (log.severity_number() < 0 || log.severity_number() > 24) {
          problem = "log records with a severity_number outside 0..24";
        }
        if (problem != nullptr) {
          rejections.add(problem,
                         strCat("resourceLogs[", r, "].scopeLogs[", s, "].logRecords[", i, "]"));
        }
        return problem != nullptr;
      });
    }
  }
  return rejections.result("log records", total);
}

}  // namespace otlpd::otlp
