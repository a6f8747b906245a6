/* The C API: a collector with a store and no port, spans exported as OTLP/JSON, the trace read
 * back. Build: cc main.c $(pkg-config --cflags --libs otlpd). Usage: otlpd_example_c <directory> */
#include <otlpd/otlpd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int check(otlpd_status status, otlpd_error* err, const char* what) {
  if (status == OTLPD_OK) return 0;
  fprintf(stderr, "%s: %s: %s\n", what, otlpd_status_name(status),
          err->message ? err->message : "");
  otlpd_error_clear(err);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <store directory>\n", argv[0]);
    return 2;
  }
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "receivers:\n  embedded:\n"
           "exporters:\n  store:\n    directory: %s\n"
           "service:\n  telemetry: {metrics: {level: none}}\n"
           "  pipelines:\n    traces:\n      receivers: [embedded]\n      exporters: [store]\n",
           argv[1]);

  otlpd_error err = OTLPD_ERROR_INIT;
  otlpd_collector* collector = NULL;
  if (check(otlpd_collector_new(yaml, NULL, &collector, &err), &err, "new")) return 1;
  if (check(otlpd_collector_start(collector, &err), &err, "start")) return 1;

  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long now = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
  char request[1024];
  snprintf(request, sizeof request,
           "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
           "\"value\":{\"stringValue\":\"example-c\"}}]},\"scopeSpans\":[{\"spans\":["
           "{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":\"b7ad6b7169203331\","
           "\"name\":\"process-order\",\"kind\":1,\"startTimeUnixNano\":\"%lld\","
           "\"endTimeUnixNano\":\"%lld\"}]}]}]}",
           now - 1000000, now);
  int64_t rejected = 0;
  if (check(otlpd_collector_export(collector, OTLPD_TRACES, OTLPD_JSON, (const uint8_t*)request,
                                   strlen(request), NULL, &rejected, &err),
            &err, "export"))
    return 1;
  otlpd_error_clear(&err);
  /* Shutting down drains the pipeline into the store. */
  if (check(otlpd_collector_shutdown(collector, 30000, &err), &err, "shutdown")) return 1;
  otlpd_collector_free(collector);

  otlpd_store* store = NULL;
  if (check(otlpd_store_open(argv[1], &store, &err), &err, "open")) return 1;
  otlpd_span_list spans = {0};
  if (check(otlpd_store_trace(store, "0af7651916cd43dd8448eb211c80319c", &spans, &err), &err,
            "trace"))
    return 1;
  for (size_t i = 0; i < spans.count; ++i) {
    printf("%s %s %lldus\n", spans.spans[i].service, spans.spans[i].name,
           (long long)(spans.spans[i].end_unix_nano - spans.spans[i].start_unix_nano) / 1000);
  }
  size_t count = spans.count;
  otlpd_span_list_free(&spans);
  otlpd_store_free(store);
  printf("otlpd %s: %zu span(s) read back\n", otlpd_version(), count);
  return count == 1 ? 0 : 1;
}
