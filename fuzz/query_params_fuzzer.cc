// The query API's parameters (src/query/params.h) and its request targets: the input is a
// request target ("/api/traces?service=x&lookback=1h") answered by the query API over a small
// store of real files, then its query string read with every typed reader. Every answer is a
// status with a JSON body.
#include <memory>

#include "fuzz_support.h"
#include "query/jaeger_api.h"
#include "query/params.h"
#include "store_support.h"

using namespace otlpd;

namespace {

struct Store {
  fuzz::ScratchDir root{"otlpd-fuzz-query"};
  std::unique_ptr<query::JaegerApi> api;
  Store() {
    for (pipeline::Signal s : pipeline::kAllSignals) {
      (void)fuzz::writeSampleFile(root.path(), s, store::BodyCodec::kLz4Frame, 1, 10);
    }
    query::JaegerApiOptions options;
    options.store_directory = root.path();
    options.max_scan_bytes = 1 << 20;
    api = std::make_unique<query::JaegerApi>(options);
  }
};

constexpr int64_t kNowMicros = 1'700'000'100'000'000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  static Store store_instance;  // destroyed at exit, with its scratch directory
  Store* store = &store_instance;
  const std::string_view target(reinterpret_cast<const char*>(data), size);

  const query::ApiResponse response = store->api->handle(target, kNowMicros);
  OTLPD_FUZZ_CHECK(response.status >= 200 && response.status < 600,
                   std::to_string(response.status));
  OTLPD_FUZZ_CHECK(!response.body.empty(), "empty body");
  OTLPD_FUZZ_CHECK(response.body.front() == '{' || response.body.front() == '[',
                   response.body.substr(0, 80));

  const size_t q = target.find('?');
  const std::string_view query = q == std::string_view::npos ? target : target.substr(q + 1);
  query::Params params(query);
  for (const char* name : {"service", "operation", "name", "body", "traceID", "spanKind"}) {
    (void)params.text(name);
  }
  (void)params.integer("limit", 1, 1000);
  (void)params.integer("spanID", INT64_MIN, INT64_MAX);
  (void)params.micros("start");
  (void)params.micros("end");
  (void)params.duration("lookback");
  (void)params.duration("minDuration");
  (void)params.duration("maxDuration");
  (void)params.rfc3339("query.start_time_min");
  (void)params.tags("tags");
  (void)params.tags("query.attributes");
  (void)params.severity("severity");
  (void)query::readTimeWindow(params, kNowMicros, 3'600'000'000);
  (void)query::urlDecode(query, true);
  (void)query::parseRfc3339Nanos(query);
  (void)query::parseSeverity(query);
  return 0;
}
