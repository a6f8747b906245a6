// Every processor of issue #11 in one (fused) chain, fed what a hostile or careless client sends:
// values nested deeper than protobuf allows us to walk, empty keys and strings, invalid UTF-8 in
// bytes values, tens of thousands of attributes, and corrupted bytes. Nothing may crash; what comes
// out must still be a valid request, and corrupted input is refused, not passed on half-edited.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "editing_test_support.h"
#include "processors/attributes/attributes_processor.h"
#include "processors/filter/filter_processor.h"
#include "processors/lookup/lookup_processor.h"
#include "processors/redaction/redaction_processor.h"
#include "processors/resource/resource_processor.h"
#include "processors/resourcedetection/resourcedetection_processor.h"
#include "processors/transform/transform_processor.h"

namespace otlpd::processors::testing {
namespace {

class NoHost final : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

class Chain {
 public:
  explicit Chain(Signal signal) : signal_(signal) {
    std::string name = "otlpd-hostile-";
    name += std::to_string(::getpid());
    name += ".csv";
    table_ = std::filesystem::temp_directory_path() / name;
    std::ofstream(table_) << "service.name,team\n,empty\n*,unowned\n";
    // Built from the end: each processor's next is the one after it.
    add(*transform::makeTransformProcessorFactory(),
        "error_mode: ignore\n"
        "trace_statements:\n"
        "  - context: span\n"
        "    statements:\n"
        "      - 'replace_pattern(attributes[\"k\"], \"a+\", \"b\")'\n"
        "      - 'truncate_all(attributes, 8)'\n"
        "      - 'set(attributes[\"deep\"], Len(attributes[\"nested\"]))'\n"
        "log_statements:\n"
        "  - context: log\n"
        "    statements:\n"
        "      - 'set(attributes[\"body.len\"], Len(body)) where IsString(body)'\n"
        "metric_statements:\n"
        "  - context: datapoint\n"
        "    statements:\n"
        "      - 'set(attributes[\"seen\"], true)'\n");
    add(*redaction::makeRedactionFactory(),
        "allow_all_keys: true\nblocked_values: ['a{3,}', '[0-9]{4}']\nsummary: debug\n");
    add(*filter::makeFilterProcessorFactory(),
        "error_mode: ignore\n"
        "traces: {span: ['attributes[\"drop\"] == true']}\n"
        "logs: {log_record: ['severity_number < SEVERITY_NUMBER_INFO and severity_number > 0']}\n"
        "metrics: {datapoint: ['attributes[\"drop\"] == true']}\n");
    add(*attributes::makeAttributesProcessorFactory(),
        "actions:\n"
        "  - {key: k, action: hash}\n"
        "  - {key: bin, action: convert, converted_type: string}\n"
        "  - {key: k, pattern: '^(?P<first>.)', action: extract}\n"
        "  - {pattern: '^x[0-9]+$', action: delete}\n");
    add(*lookup::makeLookupFactory(), "file: " + table_.string() + "\n");
    add(*resource::makeResourceProcessorFactory(),
        "attributes: [{key: tenant, value: '', action: upsert}]\n");
    add(*resourcedetection::makeResourceDetectionFactory(), "detectors: [env]\n");
    NoHost host;
    for (auto& p : processors_) EXPECT_TRUE(p->start(host).ok());
  }
  ~Chain() {
    for (auto& p : processors_) (void)p->shutdown();
    std::filesystem::remove(table_);
  }

  absl::Status consume(const std::string& bytes, size_t items) {
    auto owned = std::make_shared<const std::string>(bytes);
    return processors_.back()->consume(
        Batch::fromWire(signal_, pipeline::WireBytes{*owned, owned}, items));
  }
  CapturingConsumer& out() { return *sink_; }

 private:
  void add(const pipeline::ProcessorFactory& factory, const std::string& yaml) {
    config::ConfigErrors errors;
    auto node = config::parseYaml(yaml, "test");
    ASSERT_TRUE(node.ok()) << node.status();
    config::ConfigNode cfg(*node, "processors." + std::string(factory.type()), errors);
    std::shared_ptr<pipeline::Consumer> next =
        processors_.empty() ? std::static_pointer_cast<pipeline::Consumer>(sink_)
                            : std::shared_ptr<pipeline::Consumer>(processors_.back());
    auto created =
        factory.create(pipeline::CreateSettings{{std::string(factory.type()), ""}, testMetrics()},
                       cfg, signal_, next);
    ASSERT_TRUE(created.ok()) << created.status();
    ASSERT_TRUE(errors.empty()) << errors.toString();
    processors_.push_back(std::shared_ptr<pipeline::Processor>(*std::move(created)));
  }

  Signal signal_;
  std::filesystem::path table_;
  std::shared_ptr<CapturingConsumer> sink_ = std::make_shared<CapturingConsumer>();
  std::vector<std::shared_ptr<pipeline::Processor>> processors_;
};

pbc::AnyValue nested(int depth) {
  pbc::AnyValue v;
  pbc::AnyValue* cur = &v;
  for (int i = 0; i < depth; ++i) {
    auto* kv = cur->mutable_kvlist_value()->add_values();
    kv->set_key(i % 2 == 0 ? "" : "aaaa");
    cur = kv->mutable_value();
  }
  cur->set_string_value("1234 aaaa");
  return v;
}

void hostileAttributes(google::protobuf::RepeatedPtrField<pbc::KeyValue>* attrs, int many) {
  auto* empty = attrs->Add();  // empty key, empty value
  empty->set_key("");
  attrs->Add()->set_key("k");  // a key with no value at all
  auto* bin = attrs->Add();
  bin->set_key("bin");
  bin->mutable_value()->set_bytes_value(std::string("\xff\xfe\xc0\x80 aaaa", 9));
  auto* deep = attrs->Add();
  deep->set_key("nested");
  // As deep as protobuf's limit of 100 nested messages lets a span attribute go (3 per level).
  *deep->mutable_value() = nested(30);
  auto* arr = attrs->Add();
  arr->set_key("arr");
  for (int i = 0; i < 50; ++i) arr->mutable_value()->mutable_array_value()->add_values();
  for (int i = 0; i < many; ++i) {
    auto* kv = attrs->Add();
    std::string key = "x";
    key += std::to_string(i);  // GCC 12 warns (-Wrestrict) on "x" + std::to_string(i)
    kv->set_key(std::move(key));
    kv->mutable_value()->set_string_value(std::string(static_cast<size_t>(i % 7), 'a'));
  }
}

template <class Request>
void expectValidOutput(Chain& chain) {
  for (const Batch& b : chain.out().batches) {
    ASSERT_TRUE(b.wireBytes().has_value());
    Request parsed;
    EXPECT_TRUE(parsed.ParseFromString(std::string(*b.wireBytes())));
  }
}

TEST(HostileInput, TracesThroughEveryProcessor) {
  otlp::TracesRequest req;
  auto* rs = req.add_resource_spans();
  hostileAttributes(rs->mutable_resource()->mutable_attributes(), 10);
  auto* ss = rs->add_scope_spans();
  for (int s = 0; s < 4; ++s) {
    auto* span = ss->add_spans();
    span->set_trace_id(std::string(16, '\x01'));
    span->set_span_id(std::string(8, static_cast<char>(s + 1)));
    span->set_name(s == 0 ? "" : "GET /aaaa");
    hostileAttributes(span->mutable_attributes(), s == 3 ? 20000 : 5);
    hostileAttributes(span->add_events()->mutable_attributes(), 3);
  }
  ss->add_spans();  // an empty span
  otlp::TracesRequest check;
  ASSERT_TRUE(check.ParseFromString(req.SerializeAsString())) << "the input itself is valid";
  Chain chain(Signal::kTraces);
  ASSERT_TRUE(chain.consume(req.SerializeAsString(), 5).ok());
  ASSERT_EQ(chain.out().batches.size(), 1u);
  expectValidOutput<otlp::TracesRequest>(chain);
  otlp::TracesRequest out;
  ASSERT_TRUE(out.ParseFromString(std::string(*chain.out().batches[0].wireBytes())));
  // x0…x19999 deleted by pattern, the rest edited, nothing lost that was not asked for.
  const auto& big = out.resource_spans(0).scope_spans(0).spans(3);
  for (const auto& kv : big.attributes()) EXPECT_NE(kv.key().rfind("x1", 0), 0u) << kv.key();
  EXPECT_EQ(out.resource_spans(0).scope_spans(0).spans_size(), 5);
}

TEST(HostileInput, LogsAndMetricsThroughEveryProcessor) {
  otlp::LogsRequest logs;
  auto* sl = logs.add_resource_logs()->add_scope_logs();
  for (int i = 0; i < 3; ++i) {
    auto* rec = sl->add_log_records();
    rec->set_severity_number(static_cast<pbl::SeverityNumber>(i * 9));
    if (i == 0) *rec->mutable_body() = nested(30);
    if (i == 1) rec->mutable_body()->set_bytes_value(std::string("\xff\xff", 2));
    if (i == 2) rec->mutable_body()->set_string_value("aaaa 1234");
    hostileAttributes(rec->mutable_attributes(), 100);
  }
  Chain log_chain(Signal::kLogs);
  ASSERT_TRUE(log_chain.consume(logs.SerializeAsString(), 3).ok());
  expectValidOutput<otlp::LogsRequest>(log_chain);

  otlp::MetricsRequest metrics;
  auto* sm = metrics.add_resource_metrics()->add_scope_metrics();
  auto* gauge = sm->add_metrics();
  gauge->set_name("");
  for (int i = 0; i < 3; ++i) {
    auto* p = gauge->mutable_gauge()->add_data_points();
    hostileAttributes(p->mutable_attributes(), 10);
  }
  auto* hist = sm->add_metrics()->mutable_histogram();
  hostileAttributes(hist->add_data_points()->mutable_attributes(), 10);
  sm->add_metrics()->set_name("no data at all");
  Chain metric_chain(Signal::kMetrics);
  ASSERT_TRUE(metric_chain.consume(metrics.SerializeAsString(), 4).ok());
  expectValidOutput<otlp::MetricsRequest>(metric_chain);
}

TEST(HostileInput, CorruptedBytesAreRefusedOrPassedWhole) {
  otlp::TracesRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  for (int s = 0; s < 3; ++s) {
    auto* span = ss->add_spans();
    span->set_name("n");
    hostileAttributes(span->mutable_attributes(), 3);
  }
  const std::string good = req.SerializeAsString();
  Chain chain(Signal::kTraces);
  std::mt19937 rng(11);
  for (int round = 0; round < 400; ++round) {
    std::string bad = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      bad[rng() % bad.size()] = static_cast<char>(rng() & 0xff);
    }
    if (round % 5 == 0) bad.resize(rng() % bad.size());
    const size_t before = chain.out().batches.size();
    absl::Status s = chain.consume(bad, 3);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
      EXPECT_EQ(chain.out().batches.size(), before);
    }
  }
}

}  // namespace
}  // namespace otlpd::processors::testing
