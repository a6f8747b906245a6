// What the fuzz targets share: quiet logging, a failure that names the broken property, the
// signal a selector byte picks, reference decoding with protobuf, and a scratch directory.
#pragma once

#include <google/protobuf/arena.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/logging.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/logging.h"
#include "otlp/counts.h"
#include "otlp/proto.h"
#include "otlp/validation.h"
#include "pipeline/signal.h"

namespace otlpd::fuzz {

// Logs of rejected input would drown libFuzzer's output and slow every run down.
inline void quietLogging() {
  static const bool done = [] {
    logging::setSinkForTesting([](std::string_view) {});
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)done;
}

// A property the target checks does not hold: print it and abort, so libFuzzer keeps the input.
[[noreturn]] inline void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz property violated: %s %s\n", what, detail.c_str());
  std::fflush(stderr);
  abort();
}
#define OTLPD_FUZZ_CHECK(cond, ...)                         \
  do {                                                      \
    if (!(cond)) ::otlpd::fuzz::fail(#cond, ##__VA_ARGS__); \
  } while (0)

inline pipeline::Signal signalOf(uint8_t selector) {
  switch (selector % 3) {
    case 0:
      return pipeline::Signal::kTraces;
    case 1:
      return pipeline::Signal::kMetrics;
    default:
      return pipeline::Signal::kLogs;
  }
}

// What protobuf's parser and validation.h make of request bytes.
struct Reference {
  bool parsed = false;
  size_t items = 0;
  size_t rejected = 0;
};

template <class Request>
Reference referenceOf(std::string_view bytes, size_t (*count)(const Request&),
                      otlp::ValidationResult (*validate)(Request&)) {
  google::protobuf::Arena arena;
  auto* request = google::protobuf::Arena::CreateMessage<Request>(&arena);
  Reference out;
  out.parsed = request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  if (!out.parsed) return out;
  out.items = count(*request);
  out.rejected = validate(*request).rejected;
  return out;
}

inline Reference referenceFor(pipeline::Signal signal, std::string_view bytes) {
  switch (signal) {
    case pipeline::Signal::kTraces:
      return referenceOf<otlp::TracesRequest>(bytes, otlp::countSpans, otlp::validateTraces);
    case pipeline::Signal::kMetrics:
      return referenceOf<otlp::MetricsRequest>(bytes, otlp::countDataPoints, otlp::validateMetrics);
    case pipeline::Signal::kLogs:
      return referenceOf<otlp::LogsRequest>(bytes, otlp::countLogRecords, otlp::validateLogs);
  }
  return {};
}

// Whether protobuf's parser takes the bytes as the signal's export request.
inline bool protobufParses(pipeline::Signal signal, std::string_view bytes) {
  return referenceFor(signal, bytes).parsed;
}

// The OTLP messages as proto2, built at run time from the generated descriptors: the same wire
// format, without proto3's check that strings are UTF-8. Bytes that parse here but not with the
// generated classes are well-formed but carry invalid UTF-8 in a string field.
class LenientOtlp {
 public:
  static const LenientOtlp& instance() {
    static const LenientOtlp* lenient = new LenientOtlp();
    return *lenient;
  }
  // Without protobuf's default limit of 100 nested messages either: OTTL can nest values deeper
  // (ParseJSON, long key paths), which protobuf receivers then refuse; a known issue, reported.
  bool parses(pipeline::Signal signal, std::string_view bytes) const {
    std::unique_ptr<google::protobuf::Message> m(prototypes_[static_cast<int>(signal)]->New());
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                              static_cast<int>(bytes.size()));
    in.SetRecursionLimit(1 << 20);
    return m->ParseFromCodedStream(&in) && in.ConsumedEntireMessage();
  }

 private:
  LenientOtlp() {
    const google::protobuf::Descriptor* requests[] = {otlp::TracesRequest::descriptor(),
                                                      otlp::MetricsRequest::descriptor(),
                                                      otlp::LogsRequest::descriptor()};
    for (int i = 0; i < 3; ++i) {
      add(requests[i]->file());
      const google::protobuf::Descriptor* d = pool_.FindMessageTypeByName(requests[i]->full_name());
      if (d == nullptr) fail("lenient descriptor", requests[i]->full_name());
      prototypes_[i] = factory_.GetPrototype(d);
    }
  }
  static void toProto2(google::protobuf::DescriptorProto& m) {
    int real_oneofs = 0;
    for (auto& f : *m.mutable_field()) {
      if (f.proto3_optional()) {
        f.clear_proto3_optional();
        f.clear_oneof_index();
      } else if (f.has_oneof_index()) {
        real_oneofs = std::max(real_oneofs, f.oneof_index() + 1);
      }
    }
    while (m.oneof_decl_size() > real_oneofs) m.mutable_oneof_decl()->RemoveLast();
    for (auto& nested : *m.mutable_nested_type()) toProto2(nested);
  }
  void add(const google::protobuf::FileDescriptor* file) {
    if (pool_.FindFileByName(file->name()) != nullptr) return;
    for (int i = 0; i < file->dependency_count(); ++i) add(file->dependency(i));
    google::protobuf::FileDescriptorProto proto;
    file->CopyTo(&proto);
    proto.set_syntax("proto2");
    for (auto& m : *proto.mutable_message_type()) toProto2(m);
    if (pool_.BuildFile(proto) == nullptr) fail("lenient descriptor", file->name());
  }

  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_{&pool_};
  const google::protobuf::Message* prototypes_[3] = {};
};

// Whether the bytes are a well-formed export request of the signal, UTF-8 aside.
inline bool wellFormed(pipeline::Signal signal, std::string_view bytes) {
  return LenientOtlp::instance().parses(signal, bytes);
}

// A directory of the process's own, in memory (/dev/shm) where there is one, else under the
// temporary directory; removed at exit.
class ScratchDir {
 public:
  explicit ScratchDir(std::string_view prefix) {
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec)
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    std::string tmpl = (base / (std::string(prefix) + "-XXXXXX")).string();
    if (mkdtemp(tmpl.data()) == nullptr) fail("mkdtemp", tmpl);
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace otlpd::fuzz
