#include "processors/redaction/redaction_processor.h"

#include <gtest/gtest.h>

#include "../enrich_test_support.h"
#include "processors/redaction/redactor.h"

namespace otlpd::processors::redaction {
namespace {

using pipeline::Signal;
using testing::flat;
using testing::Harness;
using testing::putInt;
using testing::putString;
using Lines = std::vector<std::string>;
using Attrs = google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>;

constexpr const char* kVisa = "4111111111111111";

// One span with `attrs` and an event with the same attributes.
otlp::TracesRequest spanWith(const std::vector<std::pair<std::string, std::string>>& attrs) {
  otlp::TracesRequest r;
  auto* rs = r.add_resource_spans();
  putString(rs->mutable_resource()->mutable_attributes(), "service.name", "svc");
  auto* span = rs->add_scope_spans()->add_spans();
  span->set_name("op");
  auto* event = span->add_events();
  event->set_name("ev");
  for (const auto& [k, v] : attrs) {
    putString(span->mutable_attributes(), k, v);
    putString(event->mutable_attributes(), k, v);
  }
  return r;
}
const Attrs& spanAttrs(const otlp::TracesRequest& r) {
  return r.resource_spans(0).scope_spans(0).spans(0).attributes();
}
const Attrs& eventAttrs(const otlp::TracesRequest& r) {
  return r.resource_spans(0).scope_spans(0).spans(0).events(0).attributes();
}

Lines redactSpan(const std::string& config,
                 const std::vector<std::pair<std::string, std::string>>& attrs) {
  Harness h(makeRedactionFactory());
  EXPECT_EQ(h.create(config, Signal::kTraces), "");
  otlp::TracesRequest out = h.run(Signal::kTraces, spanWith(attrs));
  EXPECT_EQ(flat(spanAttrs(out)), flat(eventAttrs(out)));  // events get the same treatment
  // Resource attributes are not redacted.
  EXPECT_EQ(flat(out.resource_spans(0).resource().attributes()), (Lines{"service.name=svc"}));
  return flat(spanAttrs(out));
}

TEST(RedactionProcessorTest, OnlyAllowedKeysStayAndTheListFailsClosed) {
  EXPECT_EQ(
      redactSpan("allowed_keys: [id, group, name]\nsummary: debug\n",
                 {{"id", "5"}, {"group", "g"}, {"birth_date", "1990"}, {"mothers_name", "m"}}),
      (Lines{"group=g", "id=5", "redaction.redacted.count=2",
             "redaction.redacted.keys=birth_date,mothers_name"}));
  EXPECT_EQ(redactSpan("", {{"id", "5"}, {"name", "n"}}), Lines{});
  EXPECT_EQ(redactSpan("allow_all_keys: true\n", {{"id", "5"}, {"name", "n"}}),
            (Lines{"id=5", "name=n"}));
}

TEST(RedactionProcessorTest, BlockedValuesAreMaskedWhereTheyMatch) {
  // The README's example: Visa and MasterCard numbers inside an allowed key.
  EXPECT_EQ(redactSpan("allowed_keys: [notes, name]\n"
                       "blocked_values:\n"
                       "  - \"4[0-9]{12}(?:[0-9]{3})?\"\n"
                       "  - \"(5[1-5][0-9]{14})\"\n"
                       "summary: debug\n",
                       {{"notes", std::string("paid with ") + kVisa + " and 5500000000000004"},
                        {"name", "Ann"}}),
            (Lines{"name=Ann", "notes=paid with **** and ****", "redaction.masked.count=1",
                   "redaction.masked.keys=notes"}));
}

TEST(RedactionProcessorTest, IgnoredKeysPassUntouched) {
  EXPECT_EQ(redactSpan("allowed_keys: [notes]\nignored_keys: [safe_attribute]\n"
                       "blocked_values: [\"4[0-9]{12}(?:[0-9]{3})?\"]\nsummary: debug\n",
                       {{"safe_attribute", kVisa}, {"notes", kVisa}}),
            (Lines{"notes=****", "redaction.ignored.count=1", "redaction.masked.count=1",
                   "redaction.masked.keys=notes", std::string("safe_attribute=") + kVisa}));
  EXPECT_EQ(redactSpan("allow_all_keys: true\nignored_key_patterns: ['^safe\\.']\n"
                       "blocked_values: ['secret']\n",
                       {{"safe.a", "secret"}, {"b", "secret"}}),
            (Lines{"b=****", "safe.a=secret"}));
}

TEST(RedactionProcessorTest, BlockedKeyPatternsMaskTheWholeValue) {
  EXPECT_EQ(redactSpan("allow_all_keys: true\nblocked_key_patterns: [\".*token.*\", "
                       "\".*api_key.*\"]\nsummary: info\n",
                       {{"auth_token", "abc.def"}, {"x_api_key", ""}, {"name", "token"}}),
            (Lines{"auth_token=****", "name=token", "redaction.masked.count=2", "x_api_key=****"}));
}

TEST(RedactionProcessorTest, AllowedValuesWinOverBlockedValues) {
  EXPECT_EQ(
      redactSpan("allow_all_keys: true\nblocked_values: ['mycompany\\.com']\n"
                 "allowed_values: ['.+@mycompany\\.com']\nsummary: debug\n",
                 {{"email", "ann@mycompany.com"}, {"site", "www.mycompany.com"}}),
      (Lines{"email=ann@mycompany.com", "redaction.allowed.count=1", "redaction.allowed.keys=email",
             "redaction.masked.count=1", "redaction.masked.keys=site", "site=www.****"}));
}

TEST(RedactionProcessorTest, HashFunctionsReplaceMatchesWithTheirDigest) {
  const std::string config = "allow_all_keys: true\nblocked_values: [\"4[0-9]{15}\"]\n";
  EXPECT_EQ(redactSpan(config + "hash_function: md5\n", {{"card", kVisa}}),
            (Lines{"card=5910f4ea0062a0e29afd3dccc741e3ce"}));
  EXPECT_EQ(redactSpan(config + "hash_function: sha1\n", {{"card", kVisa}}),
            (Lines{"card=68bfb396f35af3876fc509665b3dc23a0930aab1"}));
  EXPECT_EQ(redactSpan(config + "hash_function: sha3\n", {{"card", std::string("x") + kVisa}}),
            (Lines{"card=x6099154214406cce6105a4688ab66533d3a55d1d7dd393cbccf22b487a22d922"}));
}

TEST(RedactionProcessorTest, NonStringValuesOnlyWithRedactAllTypes) {
  otlp::TracesRequest in = spanWith({});
  putInt(
      in.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->mutable_attributes(),
      "card", 4111111111111111);
  const std::string config = "allow_all_keys: true\nblocked_values: [\"4[0-9]{15}\"]\n";
  Harness plain(makeRedactionFactory());
  ASSERT_EQ(plain.create(config, Signal::kTraces), "");
  EXPECT_EQ(flat(spanAttrs(plain.run(Signal::kTraces, in))), (Lines{"card=4111111111111111"}));
  Harness all(makeRedactionFactory());
  ASSERT_EQ(all.create(config + "redact_all_types: true\n", Signal::kTraces), "");
  EXPECT_EQ(flat(spanAttrs(all.run(Signal::kTraces, in))), (Lines{"card=****"}));
}

TEST(RedactionProcessorTest, ASecondPassAddsToTheSummary) {
  const std::string config = "allowed_keys: [a, b, c]\nblocked_values: ['x']\nsummary: debug\n";
  Harness first(makeRedactionFactory());
  ASSERT_EQ(first.create(config, Signal::kTraces), "");
  otlp::TracesRequest once =
      first.run(Signal::kTraces, spanWith({{"a", "x"}, {"zz", "1"}, {"b", "y"}}));
  auto* attrs = once.mutable_resource_spans(0)
                    ->mutable_scope_spans(0)
                    ->mutable_spans(0)
                    ->mutable_attributes();
  putString(attrs, "c", "x");
  putString(attrs, "yy", "2");
  Harness second(makeRedactionFactory());
  ASSERT_EQ(second.create(config, Signal::kTraces), "");
  EXPECT_EQ(
      flat(spanAttrs(second.run(Signal::kTraces, once))),
      (Lines{"a=****", "b=y", "c=****", "redaction.masked.count=2", "redaction.masked.keys=a,c",
             "redaction.redacted.count=2", "redaction.redacted.keys=yy,zz"}));
}

TEST(RedactionProcessorTest, LogAttributesAndBodies) {
  otlp::LogsRequest in;
  auto* records = in.add_resource_logs()->add_scope_logs();
  auto* text = records->add_log_records();
  text->mutable_body()->set_string_value("user ann@example.com logged in");
  putString(text->mutable_attributes(), "user.email", "ann@example.com");
  putString(text->mutable_attributes(), "dropped", "x");
  auto* structured = records->add_log_records();
  auto* body = structured->mutable_body()->mutable_kvlist_value();
  auto add = [](otlp::pb_common::KeyValueList* list, const std::string& k) {
    auto* kv = list->add_values();
    kv->set_key(k);
    return kv->mutable_value();
  };
  add(body, "user.email")->set_string_value("bob@example.com");
  add(body, "password")->set_string_value("hunter2");
  add(body, "session_token")->set_string_value("abc");
  add(body, "emails")->mutable_array_value()->add_values()->set_string_value("a@b.io");

  Harness h(makeRedactionFactory());
  ASSERT_EQ(h.create("allowed_keys: [user.email, session_token, emails]\n"
                     "blocked_values: ['[a-z]+@[a-z]+\\.[a-z]+']\n"
                     "blocked_key_patterns: ['.*token.*']\n"
                     "summary: debug\n",
                     Signal::kLogs),
            "");
  otlp::LogsRequest out = h.run(Signal::kLogs, in);
  const auto& r0 = out.resource_logs(0).scope_logs(0).log_records(0);
  EXPECT_EQ(r0.body().string_value(), "user **** logged in");
  EXPECT_EQ(
      flat(r0.attributes()),
      (Lines{"redaction.body.masked.count=1", "redaction.body.masked.keys=body",
             "redaction.masked.count=1", "redaction.masked.keys=user.email",
             "redaction.redacted.count=1", "redaction.redacted.keys=dropped", "user.email=****"}));
  const auto& r1 = out.resource_logs(0).scope_logs(0).log_records(1);
  const auto& kv = r1.body().kvlist_value();
  ASSERT_EQ(kv.values_size(), 3);
  EXPECT_EQ(kv.values(0).key(), "user.email");
  EXPECT_EQ(kv.values(0).value().string_value(), "****");
  EXPECT_EQ(kv.values(1).key(), "session_token");
  EXPECT_EQ(kv.values(1).value().string_value(), "****");
  EXPECT_EQ(kv.values(2).key(), "emails");
  EXPECT_EQ(kv.values(2).value().array_value().values(0).string_value(), "****");
  EXPECT_EQ(flat(r1.attributes()),
            (Lines{"redaction.body.masked.count=3",
                   "redaction.body.masked.keys=emails.[0],session_token,user.email",
                   "redaction.body.redacted.count=1", "redaction.body.redacted.keys=password"}));
}

TEST(RedactionProcessorTest, DataPointAttributes) {
  otlp::MetricsRequest in;
  auto* m = in.add_resource_metrics()->add_scope_metrics()->add_metrics();
  m->set_name("logins");
  auto* point = m->mutable_sum()->add_data_points();
  point->set_as_int(1);
  putString(point->mutable_attributes(), "user", "ann@example.com");
  putString(point->mutable_attributes(), "region", "eu");
  auto* h_point = in.mutable_resource_metrics(0)->mutable_scope_metrics(0)->add_metrics();
  h_point->set_name("latency");
  auto* hp = h_point->mutable_histogram()->add_data_points();
  hp->set_count(1);
  putString(hp->mutable_attributes(), "user", "bob@example.com");
  Harness h(makeRedactionFactory());
  ASSERT_EQ(
      h.create("allowed_keys: [user]\nblocked_values: ['@example\\.com$']\n", Signal::kMetrics),
      "");
  otlp::MetricsRequest out = h.run(Signal::kMetrics, in);
  const auto& metrics = out.resource_metrics(0).scope_metrics(0).metrics();
  EXPECT_EQ(flat(metrics[0].sum().data_points(0).attributes()), (Lines{"user=ann****"}));
  EXPECT_EQ(metrics[0].sum().data_points(0).as_int(), 1);
  EXPECT_EQ(flat(metrics[1].histogram().data_points(0).attributes()), (Lines{"user=bob****"}));
}

TEST(RedactionProcessorTest, NothingToRedactPassesTheBytesOn) {
  Harness h(makeRedactionFactory());
  ASSERT_EQ(h.create("allow_all_keys: true\nblocked_values: ['\\d{16}']\n", Signal::kTraces), "");
  otlp::TracesRequest in = spanWith({{"a", "b"}, {"c", "d"}});
  EXPECT_EQ(h.run(Signal::kTraces, in).SerializeAsString(), in.SerializeAsString());
}

TEST(RedactionProcessorTest, ConfigErrorsNameTheKeyAndPattern) {
  Harness h(makeRedactionFactory());
  std::string errors = h.create(
      "blocked_values: ['ok', '(unclosed']\nblocked_key_patterns: ['[z-a]']\n"
      "hash_function: sha256\nsummary: loud\nurl_sanitizer: {enabled: true}\n",
      Signal::kTraces, false);
  EXPECT_NE(errors.find("processors.x.blocked_values"), std::string::npos) << errors;
  EXPECT_NE(errors.find("[1] '(unclosed'"), std::string::npos) << errors;
  EXPECT_NE(errors.find("processors.x.blocked_key_patterns"), std::string::npos) << errors;
  EXPECT_NE(errors.find("'sha256' is not md5, sha1 or sha3"), std::string::npos) << errors;
  EXPECT_NE(errors.find("'loud' is not debug, info or silent"), std::string::npos) << errors;
  EXPECT_NE(errors.find("processors.x.url_sanitizer"), std::string::npos) << errors;
}

TEST(RedactorTest, ReplacesLikeGosReplaceAll) {
  RedactionConfig config;
  config.allow_all_keys = true;
  config.blocked_values = {"a*"};
  auto redactor = Redactor::create(config);
  ASSERT_TRUE(redactor.ok());
  // Go: regexp.MustCompile("a*").ReplaceAllString("baaac", "X") == "XbXcX".
  EXPECT_EQ((*redactor)->maskBlockedValues("baaac"), "****b****c****");
  config.blocked_values = {"é+", "b"};
  redactor = Redactor::create(config);
  EXPECT_EQ((*redactor)->maskBlockedValues("aéébé"), "a************");
  EXPECT_EQ((*redactor)->maskBlockedValues("xyz"), std::nullopt);
}

}  // namespace
}  // namespace otlpd::processors::redaction

namespace otlpd::processors::redaction {
namespace {

// Lists are first tested with their values joined by '\n'; anchors must still hold per value.
TEST(RedactionProcessorTest, AnchoredPatternsMatchEachValueOfAList) {
  EXPECT_EQ(redactSpan("allow_all_keys: true\nblocked_values: ['^secret$']\n",
                       {{"a", "x"}, {"b", "secret"}, {"c", "a secret"}}),
            (Lines{"a=x", "b=****", "c=a secret"}));
  EXPECT_EQ(redactSpan("allow_all_keys: true\nblocked_values: ['\\Asecret\\z']\n",
                       {{"a", "x"}, {"b", "secret"}, {"c", "secret\nx"}}),
            (Lines{"a=x", "b=****", "c=secret\nx"}));
  EXPECT_EQ(redactSpan("allow_all_keys: true\nblocked_values: ['\\bkey\\b']\n",
                       {{"a", "x"}, {"b", "key"}, {"c", "keys"}}),
            (Lines{"a=x", "b=****", "c=keys"}));
}

}  // namespace
}  // namespace otlpd::processors::redaction
