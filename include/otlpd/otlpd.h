/* otlpd C API: the library's operations as C functions, the base of every other language binding
 * (the Rust crate in rust/ is built on it).
 *
 * Conventions
 * - Every function that can fail returns an otlpd_status (OTLPD_OK = 0) and, if `err` is not
 *   NULL, fills it: err->code is the same status and err->message a NUL-terminated text that the
 *   library allocated. The caller owns the otlpd_error struct (usually on its stack) and frees the
 *   message with otlpd_error_clear(); a function that succeeds leaves err->message NULL unless
 *   it says otherwise (a partial success). Initialise with OTLPD_ERROR_INIT.
 * - Handles (otlpd_collector, otlpd_store) are opaque, created by *_new / *_open and released by
 *   *_free, exactly once. Every function checks the handle and pointers it is given (NULL, or a
 *   pointer that is not a live handle of that kind) and returns OTLPD_INVALID_ARGUMENT.
 * - Results the library allocates (otlpd_buffer, otlpd_span_list, otlpd_string_list) belong to
 *   the caller, who frees each with its *_free function.
 * - Input pointers (YAML, request bytes, ids) are only read during the call; nothing keeps them.
 * - Thread safety: every function may be called from any thread, concurrently on the same
 *   handle, except *_free, which must be the last call on its handle.
 * - No C++ exception crosses this API; callbacks must not unwind through it either (a C++
 *   callback's exception is caught and counts as a permanent failure).
 */
#ifndef OTLPD_OTLPD_H_
#define OTLPD_OTLPD_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a declaration here changes incompatibly. */
#define OTLPD_ABI_VERSION 1

typedef enum otlpd_status {
  OTLPD_OK = 0,
  OTLPD_INVALID_ARGUMENT = 1, /* bad data, or a bad handle/pointer: retrying cannot help */
  OTLPD_CONFIG_ERROR = 2,     /* the config does not validate; the message lists every error */
  OTLPD_RETRYABLE = 3,        /* refused for now (memory budget spent, busy): retry later */
  OTLPD_NOT_RUNNING = 4,      /* not started, or already shut down */
  OTLPD_NOT_FOUND = 5,        /* no such trace / receiver */
  OTLPD_IO_ERROR = 6,
  OTLPD_DEADLINE_EXCEEDED = 7,
  OTLPD_INTERNAL = 8
} otlpd_status;

typedef enum otlpd_signal { OTLPD_TRACES = 0, OTLPD_METRICS = 1, OTLPD_LOGS = 2 } otlpd_signal;
typedef enum otlpd_encoding { OTLPD_PROTOBUF = 0, OTLPD_JSON = 1 } otlpd_encoding;

typedef struct otlpd_error {
  otlpd_status code;
  char* message; /* owned by the library's allocator: free with otlpd_error_clear() */
} otlpd_error;
#define OTLPD_ERROR_INIT \
  { OTLPD_OK, NULL }

/* Frees err->message and resets err to OTLPD_ERROR_INIT. NULL is accepted. */
void otlpd_error_clear(otlpd_error* err);

/* "0.1.0": a static string. */
const char* otlpd_version(void);
int otlpd_abi_version(void);
/* "ok", "config_error", ...: a static string. */
const char* otlpd_status_name(otlpd_status status);

/* Bytes the library allocated; free with otlpd_buffer_free(). */
typedef struct otlpd_buffer {
  uint8_t* data;
  size_t size;
} otlpd_buffer;
void otlpd_buffer_free(otlpd_buffer* buffer); /* frees data, sets it to NULL/0 */

/* ---------------------------------------------------------------- collector */

typedef struct otlpd_collector otlpd_collector;

/* The function of a `callback` exporter. `data`/`size`: one export request of `signal` in the
 * exporter's `encoding`, valid during the call only. Called from the exporter's queue threads,
 * possibly concurrently. Return OTLPD_OK when done, OTLPD_INVALID_ARGUMENT when the data will
 * never be taken (dead-lettered or dropped), anything else to have it retried with backoff. */
typedef otlpd_status (*otlpd_export_fn)(void* user_data, otlpd_signal signal,
                                        otlpd_encoding encoding, const uint8_t* data, size_t size);

typedef struct otlpd_callback {
  const char* exporter_id; /* as in the config: "callback" or "callback/name" */
  otlpd_export_fn fn;
  void* user_data; /* passed back as is; must stay valid until the collector is freed */
} otlpd_callback;

typedef struct otlpd_collector_options {
  const otlpd_callback* callbacks;
  size_t callback_count;
  const char* ready_file; /* NULL: none */
} otlpd_collector_options;

/* A collector from YAML text (NULL: the default config of `otlpd serve`), validated as
 * `otlpd validate` does; binds nothing until otlpd_collector_start(). `options` may be NULL.
 * On success *out is a new handle. */
otlpd_status otlpd_collector_new(const char* yaml, const otlpd_collector_options* options,
                                 otlpd_collector** out, otlpd_error* err);
/* From YAML files merged in order (`otlpd serve --config a --config b`). */
otlpd_status otlpd_collector_new_from_files(const char* const* files, size_t file_count,
                                            const otlpd_collector_options* options,
                                            otlpd_collector** out, otlpd_error* err);
otlpd_status otlpd_collector_start(otlpd_collector* collector, otlpd_error* err);
/* Drains and stops; OTLPD_DEADLINE_EXCEEDED after `deadline_ms` (the stop goes on). */
otlpd_status otlpd_collector_shutdown(otlpd_collector* collector, int64_t deadline_ms,
                                      otlpd_error* err);
otlpd_status otlpd_collector_reload(otlpd_collector* collector, const char* yaml, otlpd_error* err);
/* Delivers everything accepted so far (the pipelines restart). */
otlpd_status otlpd_collector_flush(otlpd_collector* collector, otlpd_error* err);
/* An encoded OTLP export request (or OTLP/JSON) of `signal` into the `embedded` receiver
 * `receiver` (NULL: the only one). OTLPD_OK: accepted; then *rejected_items (if not NULL) is
 * the count a partial success removed, and err->message (if any) says why. */
otlpd_status otlpd_collector_export(otlpd_collector* collector, otlpd_signal signal,
                                    otlpd_encoding encoding, const uint8_t* data, size_t size,
                                    const char* receiver, int64_t* rejected_items,
                                    otlpd_error* err);
/* The collector's own metrics, Prometheus text format. */
otlpd_status otlpd_collector_metrics(otlpd_collector* collector, otlpd_buffer* out,
                                     otlpd_error* err);
/* Shuts down (waiting for the drain) and frees. NULL is accepted. */
void otlpd_collector_free(otlpd_collector* collector);

/* ---------------------------------------------------------------- store */

typedef struct otlpd_store otlpd_store;

typedef struct otlpd_attribute {
  const char* key;
  const char* value; /* strings as they are, other types as JSON */
} otlpd_attribute;

typedef struct otlpd_span {
  const char* trace_id;       /* 32 hex digits */
  const char* span_id;        /* 16 hex digits */
  const char* parent_span_id; /* "" for a root span */
  const char* service;
  const char* name;
  int kind;
  int64_t start_unix_nano;
  int64_t end_unix_nano;
  int status_code;
  const char* status_message;
  const otlpd_attribute* attributes;
  size_t attribute_count;
} otlpd_span;

/* Spans the library allocated, with every string they point to; free with
 * otlpd_span_list_free(). */
typedef struct otlpd_span_list {
  const otlpd_span* spans;
  size_t count;
  void* internal; /* the library's: owns what the spans point to */
} otlpd_span_list;
void otlpd_span_list_free(otlpd_span_list* list);

typedef struct otlpd_string_list {
  const char* const* items;
  size_t count;
} otlpd_string_list;
void otlpd_string_list_free(otlpd_string_list* list);

/* A reader of the store directory (the `store` exporter's `directory`); reads only. */
otlpd_status otlpd_store_open(const char* directory, otlpd_store** out, otlpd_error* err);
void otlpd_store_free(otlpd_store* store);
/* Every span of one trace (1-32 hex digits); OTLPD_NOT_FOUND when there is none. */
otlpd_status otlpd_store_trace(otlpd_store* store, const char* trace_id_hex, otlpd_span_list* out,
                               otlpd_error* err);
/* The same trace as one encoded ExportTraceServiceRequest. */
otlpd_status otlpd_store_trace_otlp(otlpd_store* store, const char* trace_id_hex, otlpd_buffer* out,
                                    otlpd_error* err);
otlpd_status otlpd_store_services(otlpd_store* store, otlpd_string_list* out, otlpd_error* err);
/* Every stored request of `signal` with rows in [start, end) ns (0, 0: all), oldest first, as
 * encoded OTLP export requests passed to `fn` (valid during the call); `fn` returns nonzero to
 * go on, 0 to stop. */
typedef int (*otlpd_request_fn)(void* user_data, const uint8_t* data, size_t size);
otlpd_status otlpd_store_scan(otlpd_store* store, otlpd_signal signal, int64_t start_unix_nano,
                              int64_t end_unix_nano, otlpd_request_fn fn, void* user_data,
                              otlpd_error* err);

#ifdef __cplusplus
}
#endif

#endif /* OTLPD_OTLPD_H_ */
