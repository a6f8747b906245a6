#include "server/builtin_components.h"

#include "connectors/forward/forward_connector.h"
#include "connectors/routing/routing_connector.h"
#include "connectors/spanmetrics/spanmetrics_connector.h"
#include "exporters/debug/debug_exporter.h"
#include "exporters/file/file_exporter.h"
#include "exporters/loadbalancing/loadbalancing_exporter.h"
#include "exporters/nop/nop_exporter.h"
#include "exporters/otlp_grpc/otlp_grpc_exporter.h"
#include "exporters/otlp_http/otlp_http_exporter.h"
#include "exporters/prometheus/prometheus_exporter.h"
#include "exporters/prometheusremotewrite/remote_write_exporter.h"
#include "exporters/store/store_exporter.h"
#include "exporters/zipkin/zipkin_exporter.h"
#include "extensions/basicauth/basicauth.h"
#include "extensions/bearertokenauth/bearertokenauth.h"
#include "extensions/file_storage/file_storage.h"
#include "extensions/health_check/health_check.h"
#include "extensions/jaeger_query/jaeger_query.h"
#include "extensions/jaegerremotesampling/jaegerremotesampling.h"
#include "processors/attributes/attributes_processor.h"
#include "processors/batch/batch_processor.h"
#include "processors/filter/filter_processor.h"
#include "processors/lookup/lookup_processor.h"
#include "processors/memory_limiter/memory_limiter.h"
#include "processors/probabilistic_sampler/probabilistic_sampler_processor.h"
#include "processors/redaction/redaction_processor.h"
#include "processors/resource/resource_processor.h"
#include "processors/resourcedetection/resourcedetection_processor.h"
#include "processors/tail_sampling/tail_sampling_processor.h"
#include "processors/transform/transform_processor.h"
#include "receivers/jaeger/factory.h"
#include "receivers/otlp/factory.h"
#include "receivers/prometheus/factory.h"
#include "receivers/store_rollups/store_rollups_receiver.h"
#include "receivers/zipkin/factory.h"

namespace otlpd::server {

void registerBuiltinComponents(pipeline::FactoryRegistry& registry) {
  registry.add(receivers::otlp::makeOtlpReceiverFactory());
  registry.add(receivers::jaeger::makeJaegerReceiverFactory());
  registry.add(receivers::prometheus::makePrometheusReceiverFactory());
  registry.add(receivers::zipkin::makeZipkinReceiverFactory());
  registry.add(receivers::store_rollups::makeStoreRollupsReceiverFactory());
  registry.add(processors::memory_limiter::makeMemoryLimiterFactory());
  registry.add(processors::batch::makeBatchProcessorFactory());
  registry.add(processors::resource::makeResourceProcessorFactory());
  registry.add(processors::attributes::makeAttributesProcessorFactory());
  registry.add(processors::filter::makeFilterProcessorFactory());
  registry.add(processors::transform::makeTransformProcessorFactory());
  registry.add(processors::resourcedetection::makeResourceDetectionFactory());
  registry.add(processors::lookup::makeLookupFactory());
  registry.add(processors::redaction::makeRedactionFactory());
  registry.add(processors::probabilistic_sampler::makeProbabilisticSamplerFactory());
  registry.add(processors::tail_sampling::makeTailSamplingFactory());
  registry.add(exporters::debug::makeDebugExporterFactory());
  registry.add(exporters::nop::makeNopExporterFactory());
  registry.add(exporters::file::makeFileExporterFactory());
  registry.add(exporters::otlp_grpc::makeOtlpGrpcExporterFactory());
  registry.add(exporters::otlp_http::makeOtlpHttpExporterFactory());
  registry.add(exporters::store::makeStoreExporterFactory());
  registry.add(exporters::zipkin::makeZipkinExporterFactory());
  registry.add(exporters::loadbalancing::makeLoadBalancingExporterFactory());
  registry.add(exporters::prometheus::makePrometheusExporterFactory());
  registry.add(exporters::prometheusremotewrite::makePrometheusRemoteWriteExporterFactory());
  registry.add(extensions::health_check::makeHealthCheckFactory());
  registry.add(extensions::jaeger_query::makeJaegerQueryFactory());
  registry.add(extensions::bearertokenauth::makeBearerTokenAuthFactory());
  registry.add(extensions::basicauth::makeBasicAuthFactory());
  registry.add(extensions::file_storage::makeFileStorageFactory());
  registry.add(extensions::jaegerremotesampling::makeJaegerRemoteSamplingFactory());
  registry.add(connectors::forward::makeForwardConnectorFactory());
  registry.add(connectors::routing::makeRoutingConnectorFactory());
  registry.add(connectors::spanmetrics::makeSpanMetricsFactory());
}

}  // namespace otlpd::server
