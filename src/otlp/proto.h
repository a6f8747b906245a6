// The one place that includes generated OTLP protobuf headers. Generated code is not held to our
// warning flags, so its warnings are silenced here and nowhere else.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::otlp {

namespace pb_common = ::opentelemetry::proto::common::v1;
namespace pb_resource = ::opentelemetry::proto::resource::v1;
namespace pb_trace = ::opentelemetry::proto::trace::v1;
namespace pb_metrics = ::opentelemetry::proto::metrics::v1;
namespace pb_logs = ::opentelemetry::proto::logs::v1;

using TracesRequest = ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using TracesResponse = ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;
using MetricsRequest = ::opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using MetricsResponse =
    ::opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse;
using LogsRequest = ::opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using LogsResponse = ::opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse;

}  // namespace otlpd::otlp
