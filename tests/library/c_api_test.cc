#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "library_test_support.h"
#include "otlpd/otlpd.h"

namespace otlpd {
namespace {

using library_test::spans;
using library_test::TempDir;
using ::testing::HasSubstr;

TEST(CApi, VersionAndStatusNames) {
  EXPECT_STREQ(otlpd_version(), OTLPD_VERSION);
  EXPECT_EQ(otlpd_abi_version(), OTLPD_ABI_VERSION);
  EXPECT_STREQ(otlpd_status_name(OTLPD_CONFIG_ERROR), "config_error");
  EXPECT_STREQ(otlpd_status_name(static_cast<otlpd_status>(99)), "unknown");
}

TEST(CApi, NullAndForeignHandlesAreRejected) {
  otlpd_error err = OTLPD_ERROR_INIT;
  EXPECT_EQ(otlpd_collector_start(nullptr, &err), OTLPD_INVALID_ARGUMENT);
  EXPECT_THAT(err.message, HasSubstr("otlpd_collector"));
  otlpd_error_clear(&err);
  EXPECT_EQ(err.message, nullptr);
  uint64_t not_a_handle[4] = {1, 2, 3, 4};
  EXPECT_EQ(otlpd_collector_flush(reinterpret_cast<otlpd_collector*>(not_a_handle), &err),
            OTLPD_INVALID_ARGUMENT);
  EXPECT_EQ(otlpd_store_services(reinterpret_cast<otlpd_store*>(not_a_handle), nullptr, &err),
            OTLPD_INVALID_ARGUMENT);
  EXPECT_EQ(otlpd_collector_new("receivers: {}", nullptr, nullptr, &err), OTLPD_INVALID_ARGUMENT);
  otlpd_error_clear(&err);
  // NULL error pointers are allowed everywhere.
  EXPECT_EQ(otlpd_collector_start(nullptr, nullptr), OTLPD_INVALID_ARGUMENT);
  otlpd_collector_free(nullptr);
  otlpd_store_free(nullptr);
}

TEST(CApi, ConfigErrorsComeBackAsText) {
  otlpd_error err = OTLPD_ERROR_INIT;
  otlpd_collector* c = nullptr;
  EXPECT_EQ(otlpd_collector_new("receivers: {embedded: {x: 1}}\nexporters: {nop: {}}\n"
                                "service: {pipelines: {traces: {receivers: [embedded], "
                                "exporters: [nop]}}}\n",
                                nullptr, &c, &err),
            OTLPD_CONFIG_ERROR);
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(err.code, OTLPD_CONFIG_ERROR);
  EXPECT_THAT(err.message, HasSubstr("receivers.embedded.x"));
  otlpd_error_clear(&err);
}

struct Counter {
  std::atomic<int> calls{0};
  std::atomic<size_t> bytes{0};
};

otlpd_status countRequests(void* user_data, otlpd_signal, otlpd_encoding, const uint8_t*,
                           size_t size) {
  auto* counter = static_cast<Counter*>(user_data);
  counter->calls++;
  counter->bytes += size;
  return OTLPD_OK;
}

TEST(CApi, ExportIntoACallbackAndAStoreThenReadTheTraceBack) {
  TempDir dir;
  const std::string yaml = R"(
receivers:
  embedded:
exporters:
  callback:
  store:
    directory: )" + dir.path() +
                           R"(
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces:
      receivers: [embedded]
      exporters: [callback, store]
)";
  Counter counter;
  otlpd_callback callback{"callback", &countRequests, &counter};
  otlpd_collector_options options{&callback, 1, nullptr};
  otlpd_error err = OTLPD_ERROR_INIT;
  otlpd_collector* c = nullptr;
  ASSERT_EQ(otlpd_collector_new(yaml.c_str(), &options, &c, &err), OTLPD_OK) << err.message;
  ASSERT_EQ(otlpd_collector_start(c, &err), OTLPD_OK) << err.message;

  const std::string bytes = spans(2, 1, '\x05').SerializeAsString();
  int64_t rejected = -1;
  ASSERT_EQ(otlpd_collector_export(c, OTLPD_TRACES, OTLPD_PROTOBUF,
                                   reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                   nullptr, &rejected, &err),
            OTLPD_OK);
  EXPECT_EQ(rejected, 1);
  ASSERT_NE(err.message, nullptr);  // the partial success's reason
  otlpd_error_clear(&err);
  EXPECT_EQ(otlpd_collector_export(c, OTLPD_TRACES, OTLPD_PROTOBUF,
                                   reinterpret_cast<const uint8_t*>("\xff\xff"), 2, nullptr,
                                   nullptr, &err),
            OTLPD_INVALID_ARGUMENT);
  otlpd_error_clear(&err);
  ASSERT_EQ(otlpd_collector_shutdown(c, 60000, &err), OTLPD_OK);
  EXPECT_EQ(counter.calls.load(), 1);
  EXPECT_EQ(otlpd_collector_export(c, OTLPD_TRACES, OTLPD_PROTOBUF,
                                   reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                   nullptr, nullptr, &err),
            OTLPD_NOT_RUNNING);
  otlpd_error_clear(&err);
  otlpd_collector_free(c);

  otlpd_store* store = nullptr;
  ASSERT_EQ(otlpd_store_open(dir.path().c_str(), &store, &err), OTLPD_OK);
  otlpd_span_list list{};
  ASSERT_EQ(otlpd_store_trace(store, "05050505050505050505050505050505", &list, &err), OTLPD_OK)
      << err.message;
  ASSERT_EQ(list.count, 2u);
  EXPECT_STREQ(list.spans[0].service, "checkout");
  EXPECT_STREQ(list.spans[0].trace_id, "05050505050505050505050505050505");
  ASSERT_EQ(list.spans[0].attribute_count, 1u);
  EXPECT_STREQ(list.spans[0].attributes[0].key, "http.status_code");
  EXPECT_STREQ(list.spans[0].attributes[0].value, "200");
  otlpd_span_list_free(&list);
  EXPECT_EQ(list.spans, nullptr);

  otlpd_buffer buffer{};
  ASSERT_EQ(otlpd_store_trace_otlp(store, "05050505050505050505050505050505", &buffer, &err),
            OTLPD_OK);
  EXPECT_GT(buffer.size, 0u);
  otlpd_buffer_free(&buffer);

  otlpd_string_list services{};
  ASSERT_EQ(otlpd_store_services(store, &services, &err), OTLPD_OK);
  ASSERT_EQ(services.count, 1u);
  EXPECT_STREQ(services.items[0], "checkout");
  otlpd_string_list_free(&services);

  int requests = 0;
  ASSERT_EQ(otlpd_store_scan(
                store, OTLPD_TRACES, 0, 0,
                [](void* n, const uint8_t*, size_t) {
                  ++*static_cast<int*>(n);
                  return 1;
                },
                &requests, &err),
            OTLPD_OK);
  EXPECT_GE(requests, 1);
  EXPECT_EQ(otlpd_store_trace(store, "0909", &list, &err), OTLPD_NOT_FOUND);
  otlpd_error_clear(&err);
  otlpd_store_free(store);
}

}  // namespace
}  // namespace otlpd
