// Writes the generated part of the seed corpus: valid inputs of every target made by the real
// encoders and writers, plus edge cases that need an encoder to make (bombs, concatenated frames,
// invalid items). scripts/fuzz-corpus.sh runs it and adds the text seeds taken from the tests.
// Usage: make_seed_corpus <fuzz/corpus>
#include <cstdio>
#include <filesystem>
#include <string>

#include "common/compression.h"
#include "fuzz_support.h"
#include "loadgen/payloads.h"
#include "otlp/json_codec.h"
#include "server/default_config.h"
#include "store/file_index.h"
#include "store_support.h"

using namespace otlpd;
namespace fs = std::filesystem;

namespace {

fs::path g_root;

void seed(const std::string& target, const std::string& name, std::string_view bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  fuzz::writeFile((dir / name).string(), bytes);
}

std::string withSelector(uint8_t selector, std::string_view bytes) {
  std::string s(1, static_cast<char>(selector));
  s.append(bytes);
  return s;
}

uint8_t selectorOf(pipeline::Signal s) {
  return static_cast<uint8_t>(static_cast<int>(s));
}

std::string request(pipeline::Signal s, loadgen::Shape shape, size_t items, uint64_t seed_value) {
  return loadgen::makeRequest(s, shape, items, seed_value, fuzz::kSampleBaseTime)
      ->SerializeAsString();
}

// A traces request whose second span breaks validation (a 3-byte span id).
std::string invalidTraces() {
  otlp::TracesRequest r;
  r.ParseFromString(request(pipeline::Signal::kTraces, loadgen::Shape::kMinimal, 2, 5));
  r.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(1)->set_span_id("abc");
  return r.SerializeAsString();
}

// A metrics request with a metric of every type, exemplars, metadata and optional fields (the
// loadgen payloads have gauges, sums and histograms only).
std::string everyMetricType() {
  using namespace otlp::pb_metrics;
  otlp::MetricsRequest r;
  r.ParseFromString(request(pipeline::Signal::kMetrics, loadgen::Shape::kRealistic, 2, 9));
  auto* scope = r.mutable_resource_metrics(0)->mutable_scope_metrics(0);
  auto exemplar = [](auto* point) {
    auto* e = point->add_exemplars();
    e->set_time_unix_nano(fuzz::kSampleBaseTime);
    e->set_as_int(3);
    e->set_span_id(std::string(8, '\x01'));
    e->set_trace_id(std::string(16, '\x02'));
    auto* kv = e->add_filtered_attributes();
    kv->set_key("user");
    kv->mutable_value()->set_string_value("u1");
  };
  {
    auto* m = scope->add_metrics();
    m->set_name("queue.size");
    auto* md = m->add_metadata();
    md->set_key("prometheus.type");
    md->mutable_value()->set_string_value("gauge");
    auto* p = m->mutable_gauge()->add_data_points();
    p->set_time_unix_nano(fuzz::kSampleBaseTime);
    p->set_as_double(1.5);
    exemplar(p);
  }
  {
    auto* m = scope->add_metrics();
    m->set_name("latency");
    m->mutable_exponential_histogram()->set_aggregation_temporality(AGGREGATION_TEMPORALITY_DELTA);
    auto* p = m->mutable_exponential_histogram()->add_data_points();
    p->set_time_unix_nano(fuzz::kSampleBaseTime);
    p->set_count(7);
    p->set_sum(2.5);
    p->set_min(0.1);
    p->set_scale(-3);
    p->set_zero_count(1);
    p->set_zero_threshold(0.001);
    p->mutable_positive()->set_offset(-2);
    for (uint64_t c : {1, 2, 3}) p->mutable_positive()->add_bucket_counts(c);
    p->mutable_negative()->set_offset(4);
    exemplar(p);
  }
  {
    auto* m = scope->add_metrics();
    m->set_name("rpc.duration");
    auto* p = m->mutable_summary()->add_data_points();
    p->set_time_unix_nano(fuzz::kSampleBaseTime);
    p->set_count(4);
    p->set_sum(8);
    for (double q : {0.5, 0.99}) {
      auto* v = p->add_quantile_values();
      v->set_quantile(q);
      v->set_value(q * 3);
    }
  }
  return r.SerializeAsString();
}

std::string httpRequest(std::string_view method, std::string_view path,
                        std::string_view content_type, std::string_view encoding,
                        std::string_view body, std::string_view extra = "") {
  std::string r =
      std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: localhost\r\n";
  if (!content_type.empty()) r += "Content-Type: " + std::string(content_type) + "\r\n";
  if (!encoding.empty()) r += "Content-Encoding: " + std::string(encoding) + "\r\n";
  r += std::string(extra);
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  r.append(body);
  return r;
}

std::string chunked(std::string_view path, std::string_view content_type, std::string_view body) {
  std::string r = "POST " + std::string(path) +
                  " HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Type: " +
                  std::string(content_type) + "\r\n\r\n";
  const size_t half = body.size() / 2;
  for (std::string_view part : {body.substr(0, half), body.substr(half)}) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    r += size;
    r.append(part);
    r += "\r\n";
  }
  r += "0\r\n\r\n";
  return r;
}

std::string compressed(common::Compression c, std::string_view bytes) {
  auto out = common::compress(c, bytes);
  if (!out.ok()) fuzz::fail("compress", out.status().ToString());
  return *out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  fuzz::quietLogging();
  const pipeline::Signal signals[] = {pipeline::Signal::kTraces, pipeline::Signal::kMetrics,
                                      pipeline::Signal::kLogs};

  // Requests: the wire view, the wire editor, the splitter, OTLP/JSON.
  for (pipeline::Signal s : signals) {
    const std::string name(pipeline::signalName(s));
    const uint8_t sel = selectorOf(s);
    const std::string realistic = request(s, loadgen::Shape::kRealistic, 3, 1);
    const std::string minimal = request(s, loadgen::Shape::kMinimal, 2, 2);
    seed("otlp_wire_view", name + "_realistic", withSelector(sel, realistic));
    seed("otlp_wire_view", name + "_minimal", withSelector(sel, minimal));
    seed("otlp_wire_view", name + "_truncated",
         withSelector(sel, std::string_view(realistic).substr(0, realistic.size() / 2)));
    seed("otlp_wire_view", name + "_concatenated", withSelector(sel, minimal + minimal));
    seed("otlp_wire_split", name + "_realistic", withSelector(sel, realistic));
    seed("store_wire", name + "_realistic", withSelector(sel, realistic));
    seed("store_wire", name + "_minimal", withSelector(sel, minimal));
    seed("store_wire", name + "_concatenated", withSelector(sel, minimal + realistic));
    seed("otlp_wire_split", name + "_split_by_trace", withSelector(sel | 4, realistic + minimal));
    for (int depth = 0; depth < 4; ++depth) {
      // Reading editor, then an active one with a plan of every action.
      seed("otlp_wire_edit", name + "_read_depth" + std::to_string(depth),
           withSelector(sel | (depth << 2), std::string(8, '\0') + realistic));
      seed("otlp_wire_edit", name + "_edit_depth" + std::to_string(depth),
           withSelector(sel | (depth << 2) | 16,
                        std::string("\x02\x03\x05\x07\x09\x0b\x04\x0a", 8) + realistic));
    }
    const auto message =
        loadgen::makeRequest(s, loadgen::Shape::kRealistic, 2, 4, fuzz::kSampleBaseTime);
    seed("otlp_json", name + "_realistic", withSelector(sel, otlp::toOtlpJson(*message)));
    seed("otlp_json", name + "_minimal",
         withSelector(sel, otlp::toOtlpJson(*loadgen::makeRequest(s, loadgen::Shape::kMinimal, 1, 5,
                                                                  fuzz::kSampleBaseTime))));
  }
  seed("otlp_wire_view", "traces_invalid_items", withSelector(0, invalidTraces()));
  seed("otlp_wire_view", "empty", std::string(1, '\0'));
  seed("store_wire", "metrics_every_type",
       withSelector(selectorOf(pipeline::Signal::kMetrics), everyMetricType()));

  // HTTP requests.
  const std::string traces = request(pipeline::Signal::kTraces, loadgen::Shape::kRealistic, 2, 6);
  const std::string logs = request(pipeline::Signal::kLogs, loadgen::Shape::kMinimal, 2, 7);
  const std::string metrics_json = otlp::toOtlpJson(*loadgen::makeRequest(
      pipeline::Signal::kMetrics, loadgen::Shape::kMinimal, 2, 8, fuzz::kSampleBaseTime));
  const std::string pb = "application/x-protobuf", js = "application/json";
  seed("otlp_http_request", "protobuf",
       withSelector(0, httpRequest("POST", "/v1/traces", pb, "", traces)));
  seed("otlp_http_request", "json",
       withSelector(0,
                    httpRequest("POST", "/v1/metrics", js + "; charset=utf-8", "", metrics_json)));
  seed("otlp_http_request", "gzip",
       withSelector(0, httpRequest("POST", "/v1/traces", pb, "gzip",
                                   compressed(common::Compression::kGzip, traces))));
  seed("otlp_http_request", "deflate",
       withSelector(0, httpRequest("POST", "/v1/logs", pb, "deflate",
                                   compressed(common::Compression::kDeflate, logs))));
  seed("otlp_http_request", "zstd_json",
       withSelector(0, httpRequest("POST", "/v1/metrics", js, "zstd",
                                   compressed(common::Compression::kZstd, metrics_json))));
  seed("otlp_http_request", "chunked", withSelector(0, chunked("/v1/logs", pb, logs)));
  seed("otlp_http_request", "pipelined",
       withSelector(0, httpRequest("POST", "/v1/logs", pb, "", logs) +
                           httpRequest("POST", "/v1/traces", pb, "", traces)));
  seed("otlp_http_request", "metadata_paths",
       withSelector(1, httpRequest("POST", "/otlp/v1/logs", pb, "", logs,
                                   "X-Tenant: acme\r\nAuthorization: Bearer t\r\n")));
  seed("otlp_http_request", "preflight",
       withSelector(0,
                    "OPTIONS /v1/traces HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example.org\r\n"
                    "Access-Control-Request-Method: POST\r\n\r\n"));
  seed("otlp_http_request", "cors_post",
       withSelector(0, httpRequest("POST", "/v1/traces", pb, "", traces,
                                   "Origin: https://app.example.com\r\n")));
  seed("otlp_http_request", "get", withSelector(0, "GET /v1/traces HTTP/1.1\r\nHost: x\r\n\r\n"));
  seed("otlp_http_request", "unknown_type",
       withSelector(0, httpRequest("POST", "/v1/traces", "text/plain", "br", "hello")));
  seed("otlp_http_request", "gzip_bomb",
       withSelector(
           0, httpRequest("POST", "/v1/traces", pb, "gzip",
                          compressed(common::Compression::kGzip, std::string(4 << 20, '\0')))));
  seed("otlp_http_request", "invalid_items",
       withSelector(0, httpRequest("POST", "/v1/traces", pb, "", invalidTraces())));

  // Decompression: selector = encoding | limit index << 2 (index 5: 1 MiB, 3: 4 KiB).
  {
    const std::string body = traces + logs;
    const std::string big(2 << 20, 'a');
    struct {
      common::Compression c;
      uint8_t code;
      const char* name;
    } codecs[] = {{common::Compression::kGzip, 0, "gzip"},
                  {common::Compression::kDeflate, 1, "deflate"},
                  {common::Compression::kZstd, 2, "zstd"}};
    for (const auto& c : codecs) {
      seed("decompress", std::string(c.name) + "_request",
           withSelector(c.code | (5 << 2), compressed(c.c, body)));
      seed("decompress", std::string(c.name) + "_over_limit",
           withSelector(c.code | (3 << 2), compressed(c.c, big)));
      seed("decompress", std::string(c.name) + "_empty",
           withSelector(c.code | (5 << 2), compressed(c.c, "")));
    }
    seed("decompress", "gzip_two_members",
         withSelector(0 | (5 << 2), compressed(common::Compression::kGzip, "abc") +
                                        compressed(common::Compression::kGzip, "def")));
    // zstd: a skippable frame, then a frame.
    std::string skippable("\x50\x2a\x4d\x18\x04\x00\x00\x00skip", 12);
    seed("decompress", "zstd_skippable",
         withSelector(2 | (5 << 2), skippable + compressed(common::Compression::kZstd, body)));
    // Raw deflate under the deflate name: the zlib stream without its 2-byte header and checksum.
    const std::string zlib = compressed(common::Compression::kDeflate, body);
    seed("decompress", "deflate_raw", withSelector(1 | (5 << 2), zlib.substr(2, zlib.size() - 6)));
  }

  // Config: the embedded default, with and without a --set line.
  seed("config", "default", "\n" + std::string(server::kDefaultConfig));
  seed("config", "default_with_set",
       "receivers.otlp.protocols.http.endpoint=${env:HOST}:4318\n" +
           std::string(server::kDefaultConfig));

  // Store files and their indexes: every signal, every body codec.
  {
    fuzz::ScratchDir dir("otlpd-seed-store");
    const struct {
      store::BodyCodec codec;
      const char* name;
    } codecs[] = {{store::BodyCodec::kNone, "none"},
                  {store::BodyCodec::kLz4Frame, "lz4"},
                  {store::BodyCodec::kZstd, "zstd"}};
    for (pipeline::Signal s : signals) {
      for (const auto& c : codecs) {
        const fs::path sub =
            fs::path(dir.path()) / (std::string(c.name) + std::string(pipeline::signalName(s)));
        const std::string file =
            fuzz::writeSampleFile(sub.string(), s, c.codec, 2, 3, loadgen::Shape::kRealistic);
        const std::string name = std::string(pipeline::signalName(s)) + "_" + c.name;
        const std::string bytes = fuzz::readFile(file);
        seed("store_file", name, withSelector(selectorOf(s), bytes));
        seed("store_file", name + "_query", withSelector(selectorOf(s) | 4 | 16 | 64, bytes));
        if (c.codec == store::BodyCodec::kZstd) {
          // Cut inside the last batch, as a crash leaves a file.
          seed("store_file", name + "_cut",
               withSelector(selectorOf(s), std::string_view(bytes).substr(0, bytes.size() - 40)));
          seed("store_index", std::string(pipeline::signalName(s)),
               withSelector(selectorOf(s), fuzz::readFile(store::indexPathFor(file))));
          seed("store_index", std::string(pipeline::signalName(s)) + "_query",
               withSelector(selectorOf(s) | 4 | 16 | 64 | 128,
                            fuzz::readFile(store::indexPathFor(file))));
        }
      }
    }
  }
  return 0;
}
