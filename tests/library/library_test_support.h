// Requests and configs for the library tests.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>

#include "otlp/proto.h"

namespace otlpd::library_test {

// `valid` spans of one trace (id `trace_byte` repeated) plus `invalid` ones (a 3-byte span id).
inline ::otlpd::otlp::TracesRequest spans(int valid, int invalid = 0, char trace_byte = '\x01',
                                          const std::string& service = "checkout") {
  ::otlpd::otlp::TracesRequest req;
  auto* rs = req.add_resource_spans();
  auto* attr = rs->mutable_resource()->add_attributes();
  attr->set_key("service.name");
  attr->mutable_value()->set_string_value(service);
  auto* ss = rs->add_scope_spans();
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  for (int i = 0; i < valid + invalid; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(std::string(16, trace_byte));
    std::string span_id(8, '\x02');
    span_id[7] = static_cast<char>(i + 1);
    span->set_span_id(i < valid ? span_id : std::string(3, '\x02'));
    span->set_name(i == 0 ? "GET /cart" : "db.query");
    span->set_kind(::opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
    span->set_start_time_unix_nano(now - 2'000'000);
    span->set_end_time_unix_nano(now);
    auto* a = span->add_attributes();
    a->set_key("http.status_code");
    a->mutable_value()->set_int_value(200);
  }
  return req;
}

// A fresh directory under the system's temporary directory, removed with this object.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("otlpd-library-test-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter.fetch_add(1)));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace otlpd::library_test
