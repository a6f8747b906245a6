// The direct OTLP/JSON codec (json_wire.h) against the reflection codec (json_codec.h), its
// reference: on generated requests of every signal, every field and value kind, written in every
// form OTLP/JSON allows, and on corrupted text, both must give the same verdict, the same error
// message and the same decoded request; the encoder must write the same text.
#include "otlp/json_wire.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/simdjson.h"
#include "loadgen/payloads.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"
#include "otlp/wire_reader.h"
#include "otlp/wire_view.h"
#include "otlp/wire_writer.h"

namespace otlpd::otlp {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::unique_ptr<Message> newMessage(const Descriptor& type) {
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(&type)->New());
}

bool sameMessage(const Message& a, const Message& b, std::string* diff) {
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differ;
  differ.set_field_comparator(&comparator);
  differ.ReportDifferencesToString(diff);
  return differ.Compare(a, b);
}

// How often each outcome was seen, so that a generator that stopped producing errors (or
// successes) shows.
struct Tally {
  int ok = 0;
  int same_error = 0;
  int syntax_error = 0;
  int same_bytes = 0;
  int vouched = 0;          // traces the decoder vouched for (all found valid by the wire view)
  int valid_unvouched = 0;  // traces the wire view finds valid that the decoder did not vouch for
};

// Decodes `json` both ways and requires the same outcome.
void expectSameDecoding(const Descriptor& type, const std::string& json, Tally& tally) {
  auto reference = newMessage(type);
  const absl::Status expected = parseOtlpJson(json, *reference);
  std::string wire;
  std::optional<size_t> vouched;
  const absl::Status got = otlpJsonToWire(type, json, json.size(), wire, &vouched);
  ASSERT_EQ(expected.ok(), got.ok()) << "reference: " << expected << "\ndirect: " << got << "\n"
                                     << json;
  if (!expected.ok()) {
    // Syntax is checked by the reference before anything else, so where the text is malformed
    // the two may name different faults.
    const bool syntax = absl::StartsWith(expected.message(), "malformed JSON") ||
                        absl::StartsWith(got.message(), "malformed JSON");
    if (syntax) {
      ++tally.syntax_error;
    } else {
      ASSERT_EQ(expected.message(), got.message()) << json;
      ++tally.same_error;
    }
    return;
  }
  ++tally.ok;
  auto decoded = newMessage(type);
  ASSERT_TRUE(decoded->ParseFromString(wire)) << json;
  std::string diff;
  ASSERT_TRUE(sameMessage(*reference, *decoded, &diff)) << diff << "\n" << json;
  if (wire == reference->SerializeAsString()) ++tally.same_bytes;
  // A vouch must be right: the wire view finds the bytes valid, with as many items.
  if (&type == TracesRequest::descriptor()) {
    const WireSummary view = inspectTracesWire(wire);
    if (vouched) {
      ASSERT_TRUE(view.valid()) << json;
      ASSERT_EQ(view.items, *vouched) << json;
      ++tally.vouched;
    } else if (view.valid()) {
      ++tally.valid_unvouched;
    }
  } else {
    ASSERT_FALSE(vouched.has_value());
  }
}

// Encodes `message` both ways and requires the same text.
void expectSameEncoding(const Message& message) {
  const std::string wire = message.SerializeAsString();
  std::string direct = "prefix:";
  ASSERT_TRUE(appendOtlpJsonFromWire(*message.GetDescriptor(), wire, direct));
  ASSERT_EQ("prefix:" + toOtlpJson(message), direct);
}

// ---- random messages: every field of every OTLP message, filled through reflection ----

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  std::string text() {
    static const char* kTexts[] = {
        "",          "x",          "GET /api/users",      "héllo wörld",
        "日本語",    "🙂 emoji", "quote\" back\\slash", "ctl\x01\n\t\x1f",
        "service-a", "\x7f del"};
    return kTexts[below(10)];
  }
  std::string bytes(size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(below(256));
    return s;
  }
  int64_t int64() {
    static const int64_t kEdges[] = {0,
                                     1,
                                     -1,
                                     std::numeric_limits<int64_t>::min(),
                                     std::numeric_limits<int64_t>::max(),
                                     std::numeric_limits<int32_t>::min(),
                                     std::numeric_limits<int32_t>::max(),
                                     1'700'000'000'000'000'000,
                                     (int64_t{1} << 53) + 1};
    return chance(0.5) ? kEdges[below(9)] : static_cast<int64_t>(rng_());
  }
  double real() {
    static const double kEdges[] = {0.0,
                                    -0.0,
                                    1.5,
                                    -2.25e-300,
                                    1e18,
                                    18446744073709551616.0,
                                    std::numeric_limits<double>::quiet_NaN(),
                                    std::numeric_limits<double>::infinity(),
                                    -std::numeric_limits<double>::infinity(),
                                    std::numeric_limits<double>::max(),
                                    std::numeric_limits<double>::denorm_min(),
                                    0.1};
    return chance(0.6) ? kEdges[below(12)]
                       : std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
  }

  void fill(Message& m, int depth) {
    const Descriptor* d = m.GetDescriptor();
    const Reflection* r = m.GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (!chance(depth > 6 ? 0.15 : 0.6)) continue;
      if (f->is_repeated()) {
        for (int n = below(depth > 4 ? 2 : 4); n > 0; --n) setValue(m, r, f, true, depth);
      } else {
        setValue(m, r, f, false, depth);
      }
    }
  }

 private:
  void setValue(Message& m, const Reflection* r, const FieldDescriptor* f, bool repeated,
                int depth) {
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        if (depth > 12) return;
        Message* child = repeated ? r->AddMessage(&m, f) : r->MutableMessage(&m, f);
        fill(*child, depth + 1);
        return;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string s;
        if (f->type() == FieldDescriptor::TYPE_STRING) {
          s = text();
        } else {
          const bool id =
              f->name() == "trace_id" || f->name() == "span_id" || f->name() == "parent_span_id";
          s = bytes(id && chance(0.8) ? (f->name() == "trace_id" ? 16 : 8)
                                      : static_cast<size_t>(below(7)));
        }
        repeated ? r->AddString(&m, f, s) : r->SetString(&m, f, s);
        return;
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        const int64_t v = int64();
        repeated ? r->AddInt64(&m, f, v) : r->SetInt64(&m, f, v);
        return;
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        const auto v = static_cast<uint64_t>(int64());
        repeated ? r->AddUInt64(&m, f, v) : r->SetUInt64(&m, f, v);
        return;
      }
      case FieldDescriptor::CPPTYPE_INT32: {
        const auto v = static_cast<int32_t>(int64());
        repeated ? r->AddInt32(&m, f, v) : r->SetInt32(&m, f, v);
        return;
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        const auto v = static_cast<uint32_t>(int64());
        repeated ? r->AddUInt32(&m, f, v) : r->SetUInt32(&m, f, v);
        return;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        const double v = real();
        repeated ? r->AddDouble(&m, f, v) : r->SetDouble(&m, f, v);
        return;
      }
      case FieldDescriptor::CPPTYPE_FLOAT: {
        const auto v = static_cast<float>(real());
        repeated ? r->AddFloat(&m, f, v) : r->SetFloat(&m, f, v);
        return;
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        const bool v = chance(0.5);
        repeated ? r->AddBool(&m, f, v) : r->SetBool(&m, f, v);
        return;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        // Known values mostly, sometimes a number the enum does not name (proto3 keeps it).
        const int count = f->enum_type()->value_count();
        const int v = chance(0.9) ? f->enum_type()->value(below(count))->number()
                                  : static_cast<int>(int64() % 1000);
        repeated ? r->AddEnumValue(&m, f, v) : r->SetEnumValue(&m, f, v);
        return;
      }
    }
  }

  std::mt19937_64 rng_;
};

// ---- rewriting OTLP/JSON text into the other forms a sender may use ----

// Field facts by JSON key, over every OTLP message: the snake_case name, and the enum for enums.
struct KeyFacts {
  std::string proto_name;
  const google::protobuf::EnumDescriptor* enum_type = nullptr;
  bool int64 = false;
};

void collectKeys(const Descriptor* d, std::map<std::string, KeyFacts>& keys,
                 std::set<const Descriptor*>& seen) {
  if (!seen.insert(d).second) return;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    KeyFacts& k = keys[f->json_name()];
    k.proto_name = f->name();
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) k.enum_type = f->enum_type();
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_INT64 ||
        f->cpp_type() == FieldDescriptor::CPPTYPE_UINT64) {
      k.int64 = true;
    }
    if (f->message_type() != nullptr) collectKeys(f->message_type(), keys, seen);
  }
}

class Rewriter {
 public:
  Rewriter(Generator& g, const Descriptor& root) : g_(g) {
    std::set<const Descriptor*> seen;
    collectKeys(&root, keys_, seen);
  }

  std::string rewrite(const std::string& json) {
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(json);
    std::string out;
    write(root, nullptr, out, 0);
    return out;
  }

 private:
  void space(std::string& out) {
    if (g_.chance(0.05)) out.append(g_.chance(0.5) ? " " : "\n\t ");
  }

  void writeString(std::string_view s, std::string& out) {
    out.push_back('"');
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(c);
      } else if (u < 0x20 || (u < 0x80 && g_.chance(0.02))) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", u);
        out.append(buf);
      } else {
        out.push_back(c);
      }
    }
    out.push_back('"');
  }

  void unknownValue(std::string& out, int depth) {
    switch (g_.below(depth > 2 ? 4 : 6)) {
      case 0:
        out.append("\"unknown\\u00e9\"");
        break;
      case 1:
        out.append("-12.5e3");
        break;
      case 2:
        out.append("null");
        break;
      case 3:
        out.append("true");
        break;
      case 4:
        out.append("[1,{\"a\":[]},\"x\"]");
        break;
      default:
        out.append("{\"traceId\":\"not hex\",\"nested\":");
        unknownValue(out, depth + 1);
        out.append("}");
    }
  }

  void write(simdjson::dom::element e, const KeyFacts* facts, std::string& out, int depth) {
    space(out);
    switch (e.type()) {
      case simdjson::dom::element_type::OBJECT: {
        out.push_back('{');
        bool first = true;
        auto comma = [&] {
          if (!first) out.push_back(',');
          first = false;
        };
        for (auto [key, value] : simdjson::dom::object(e)) {
          if (g_.chance(0.03)) {
            comma();
            out.append("\"someFutureField\":");
            unknownValue(out, 0);
          }
          auto it = keys_.find(std::string(key));
          const KeyFacts* child = it == keys_.end() ? nullptr : &it->second;
          if (child != nullptr && g_.chance(0.02)) {
            comma();  // a null for a known key counts as absent
            writeString(child->proto_name, out);
            out.append(":null");
          }
          comma();
          writeString(child != nullptr && g_.chance(0.3) ? child->proto_name : std::string(key),
                      out);
          space(out);
          out.push_back(':');
          write(value, child, out, depth + 1);
        }
        out.push_back('}');
        break;
      }
      case simdjson::dom::element_type::ARRAY: {
        out.push_back('[');
        bool first = true;
        for (auto item : simdjson::dom::array(e)) {
          if (!first) out.push_back(',');
          first = false;
          write(item, facts, out, depth + 1);
        }
        out.push_back(']');
        break;
      }
      case simdjson::dom::element_type::STRING: {
        const std::string_view s = e.get_string().value_unsafe();
        int64_t as_int = 0;
        if (facts != nullptr && facts->int64 && g_.chance(0.4) &&
            absl::SimpleAtoi(absl::string_view(s.data(), s.size()), &as_int) &&
            std::abs(as_int) < (int64_t{1} << 53)) {
          out.append(s);  // a 64-bit integer as a JSON number
        } else {
          writeString(s, out);
        }
        break;
      }
      case simdjson::dom::element_type::INT64:
      case simdjson::dom::element_type::UINT64: {
        const std::string number = simdjson::minify(e);
        if (facts != nullptr && facts->enum_type != nullptr && g_.chance(0.5)) {
          const auto* v =
              facts->enum_type->FindValueByNumber(static_cast<int>(e.get_int64().value_unsafe()));
          if (v != nullptr) {
            writeString(v->name(), out);
            break;
          }
        }
        if (g_.chance(0.05)) {
          out.append(number + ".0");  // an integer with a zero fraction
        } else if (g_.chance(0.05)) {
          writeString(number, out);  // a 32-bit integer as a string
        } else {
          out.append(number);
        }
        break;
      }
      default:
        out.append(simdjson::minify(e));
    }
  }

  Generator& g_;
  std::map<std::string, KeyFacts> keys_;
};

// A random corruption of JSON text.
std::string mutate(Generator& g, std::string json) {
  if (json.empty()) return json;
  static const char* kInserts[] = {"null",  "\"",     ",",  "{",      "]",
                                   "\\u12", "1e999",  "-",  "\"zz\"", "18446744073709551616",
                                   "\xff",  "[null]", "{}", "0.5"};
  for (int n = 1 + g.below(2); n > 0; --n) {
    const size_t at = static_cast<size_t>(g.below(static_cast<int>(json.size())));
    switch (g.below(9)) {
      case 0:
        json[at] = static_cast<char>(json[at] ^ (1 << g.below(7)));
        break;
      case 1:
        json.resize(at);
        break;
      case 2:
        json.insert(at, kInserts[g.below(14)]);
        break;
      case 3:
        json.erase(at, 1 + static_cast<size_t>(g.below(4)));
        break;
      case 4: {
        // Overwrite a hex digit or letter: ids, enums and numbers go wrong.
        const size_t quote = json.find('"', at);
        if (quote != std::string::npos && quote + 1 < json.size()) json[quote + 1] = 'g';
        break;
      }
      default:
        // A value replaced by another of the wrong kind or range.
        if (size_t colon = json.find(':', at); colon != std::string::npos) {
          static const char* kValues[] = {"\"zz\"",
                                          "1.5",
                                          "-1",
                                          "true",
                                          "[]",
                                          "{}",
                                          "\"18446744073709551616\"",
                                          "[null]",
                                          "\"SPAN_KIND_X\"",
                                          "\"abc\"",
                                          "4294967296",
                                          "\"-\"",
                                          "[{}]",
                                          "\"AQ\""};
          size_t end = colon + 1;
          if (end < json.size() && json[end] == '"') {
            ++end;
            while (end < json.size() && json[end] != '"') end += json[end] == '\\' ? 2 : 1;
            ++end;
          } else {
            while (end < json.size() && json[end] != ',' && json[end] != '}' && json[end] != ']' &&
                   json[end] != '{' && json[end] != '[') {
              ++end;
            }
          }
          json.replace(colon + 1, std::min(end, json.size()) - colon - 1, kValues[g.below(14)]);
        }
    }
    if (json.empty()) break;
  }
  return json;
}

const Descriptor* kTypes[] = {TracesRequest::descriptor(), MetricsRequest::descriptor(),
                              LogsRequest::descriptor()};

TEST(JsonWire, DecodesGeneratedRequestsAsTheReflectionCodec) {
  for (const Descriptor* type : kTypes) {
    Generator g(42);
    Rewriter rewriter(g, *type);
    Tally tally;
    for (int i = 0; i < 300; ++i) {
      auto m = newMessage(*type);
      g.fill(*m, 0);
      const std::string json = toOtlpJson(*m);
      ASSERT_NO_FATAL_FAILURE(expectSameDecoding(*type, json, tally));
      ASSERT_NO_FATAL_FAILURE(expectSameDecoding(*type, rewriter.rewrite(json), tally));
    }
    std::printf(
        "%s: %d decoded alike (%d to the same bytes, %d vouched, %d valid but not vouched), %d "
        "refused alike\n",
        type->name().c_str(), tally.ok, tally.same_bytes, tally.vouched, tally.valid_unvouched,
        tally.same_error);
    EXPECT_GE(tally.ok, 550);
  }
}

TEST(JsonWire, RefusesCorruptedRequestsAsTheReflectionCodec) {
  for (const Descriptor* type : kTypes) {
    Generator g(7);
    Rewriter rewriter(g, *type);
    Tally tally;
    for (int i = 0; i < 2500; ++i) {
      auto m = newMessage(*type);
      g.fill(*m, 3);  // smaller requests: more of the corruptions land in known fields
      std::string json = toOtlpJson(*m);
      if (g.chance(0.5)) json = rewriter.rewrite(json);
      ASSERT_NO_FATAL_FAILURE(expectSameDecoding(*type, mutate(g, json), tally));
    }
    std::printf("%s: %d decoded alike, %d refused with the same message, %d malformed\n",
                type->name().c_str(), tally.ok, tally.same_error, tally.syntax_error);
    EXPECT_GT(tally.ok, 50);
    EXPECT_GT(tally.same_error, 50);
    EXPECT_GT(tally.syntax_error, 100);
  }
}

TEST(JsonWire, EncodesGeneratedRequestsAsTheReflectionCodec) {
  for (const Descriptor* type : kTypes) {
    Generator g(99);
    for (int i = 0; i < 300; ++i) {
      auto m = newMessage(*type);
      g.fill(*m, 0);
      ASSERT_NO_FATAL_FAILURE(expectSameEncoding(*m));
    }
  }
}

TEST(JsonWire, EncodesCorruptedWireAsTheReflectionCodecOrDeclines) {
  google::protobuf::LogSilencer quiet;
  int encoded = 0;
  int declined = 0;
  for (const Descriptor* type : kTypes) {
    Generator g(5);
    for (int i = 0; i < 1000; ++i) {
      auto m = newMessage(*type);
      g.fill(*m, 3);
      std::string wire = m->SerializeAsString();
      if (wire.empty()) continue;
      const size_t at = static_cast<size_t>(g.below(static_cast<int>(wire.size())));
      wire[at] = static_cast<char>(wire[at] ^ (1 << g.below(8)));
      std::string direct;
      if (!appendOtlpJsonFromWire(*type, wire, direct)) {
        ++declined;
        continue;
      }
      auto parsed = newMessage(*type);
      ASSERT_TRUE(parsed->ParseFromString(wire))
          << "encoded bytes protobuf refuses: " << absl::CEscape(wire) << "\n"
          << direct;
      ASSERT_EQ(toOtlpJson(*parsed), direct);
      ++encoded;
    }
  }
  EXPECT_GT(encoded, 300);
  EXPECT_GT(declined, 100);
}

TEST(JsonWire, EncodesLastOneofMemberRepeatedScalarsAndUnpackedRuns) {
  // Bytes a canonical serialiser never writes, but protobuf reads: a oneof set twice (the last
  // wins), a scalar repeated (the last wins), a packed field sent unpacked, unknown fields.
  std::string wire;
  wire::appendTag(1, wire::kLengthDelimited, wire);  // AnyValue.string_value
  wire::appendVarint(1, wire);
  wire.push_back('a');
  wire::appendTag(3, wire::kVarint, wire);  // AnyValue.int_value
  wire::appendVarint(5, wire);
  wire::appendTag(99, wire::kVarint, wire);  // unknown
  wire::appendVarint(1, wire);
  wire::appendTag(3, wire::kVarint, wire);
  wire::appendVarint(6, wire);
  pb_common::AnyValue value;
  ASSERT_TRUE(value.ParseFromString(wire));
  std::string direct;
  ASSERT_TRUE(appendOtlpJsonFromWire(*pb_common::AnyValue::descriptor(), wire, direct));
  EXPECT_EQ(toOtlpJson(value), direct);
  EXPECT_EQ("{\"intValue\":\"6\"}", direct);

  std::string point;  // HistogramDataPoint.bucket_counts (6, fixed64) unpacked, then packed
  wire::appendTag(6, wire::kFixed64, point);
  wire::appendFixed64(3, point);
  wire::appendTag(6, wire::kLengthDelimited, point);
  wire::appendVarint(8, point);
  wire::appendFixed64(4, point);
  pb_metrics::HistogramDataPoint parsed;
  ASSERT_TRUE(parsed.ParseFromString(point));
  direct.clear();
  ASSERT_TRUE(appendOtlpJsonFromWire(*pb_metrics::HistogramDataPoint::descriptor(), point, direct));
  EXPECT_EQ(toOtlpJson(parsed), direct);
}

TEST(JsonWire, RepeatedMessageKeysMergeAsTheReflectionCodec) {
  // The second "value" merges into the first and conflicts with its oneof.
  const std::string json =
      R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"intValue":"1"},)"
      R"("body":{"stringValue":"x"}}]}]}]})";
  Tally tally;
  expectSameDecoding(*LogsRequest::descriptor(), json, tally);
  EXPECT_EQ(1, tally.same_error);
  // Merging without conflict.
  const std::string merged = R"({"resourceSpans":[{"resource":{"attributes":[{"key":"a"}]},)"
                             R"("resource":{"droppedAttributesCount":3}}]})";
  expectSameDecoding(*TracesRequest::descriptor(), merged, tally);
  EXPECT_EQ(1, tally.ok);
}

TEST(JsonWire, EdgeCasesAsTheReflectionCodec) {
  const char* kCases[] = {
      "",
      "   ",
      "[]",
      "\"x\"",
      "null",
      "nul",
      "{}",
      "{} {}",
      "{}x",
      R"({"resourceSpans":null})",
      R"({"resourceSpans":[null]})",
      R"({"resourceSpans":{}})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102"}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abc"}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":5}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"00FF00ff00ff00ff"}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_SERVER"}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SERVER"}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":2.0}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":2.5}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":-3}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":4294967296}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"-1"}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":18446744073709551615}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":18446744073709551616}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":1e19}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"1e3"}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":" 1"}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":-0}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"flags":-1}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":1}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a","name":""}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"trace\u0049d":"01"}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"intValue":"1","stringValue":"x"}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"intValue":"1","intValue":0}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"bytesValue":"AQI="}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"bytesValue":"AQI"}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"bytesValue":"A"}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"bytesValue":"-_8="}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"doubleValue":"NaN"}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"doubleValue":"1.5"}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"doubleValue":"inf"}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"doubleValue":-0.0}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"boolValue":"true"}}]}]}]}]})",
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[{"stringValue":"x"},{}]}}}]}}}]}]}]}]})",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"bucketCounts":["1",2],"explicitBounds":[1.5,"2"],"sum":0}]}}]}]}]})",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{},"sum":{}}]}]}]})",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"sum":1829.63500000000000000002,"min":1.00000000000000000000001e5,"max":1e400}]}}]}]}]})",
      // simdjson 3.0's On-Demand get_double() misreads fractions of about 90 digits (found by
      // otlp_json_fuzzer); the direct decoder must read them as the DOM does.
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"explicitBounds":[0.055555555555555555555555555555555555555555555555555555555555555555555555555555555555505,0.01]}]}}]}]}]})",
      // ... and refuses a zero with a 100-digit exponent, which the DOM reads as 0.
      R"({"": 0e3000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 })",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"asDouble":0e3000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000}]}}]}]}]})",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"asDouble":1e3000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000}]}}]}]}]})",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"asDouble":-1234567890123456789012345678901234567890.123456789012345678901234567890e-5}]}}]}]}]})",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"asInt":12345678901234567890.0,"timeUnixNano":1.0000000000000000000001e3}]}}]}]}]})",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"exponentialHistogram":{"dataPoints":[{"scale":-3,"positive":{"offset":-7,"bucketCounts":[]}}]}}]}]}]})",
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA","isMonotonic":true}}]}]}]})",
      R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"SEVERITY_NUMBER_WARN","body":{"stringValue":"x"}}]}]}]})",
      R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"unknown":[1,2,}]}]}]})",
      R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"unknown":"\ud800"}]}]}]})",
      R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"unknown":tru}]}]}]})",
      R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"unknown":01}]}]}]})",
  };
  Tally tally;
  for (const char* json : kCases) {
    for (const Descriptor* type : kTypes) {
      SCOPED_TRACE(json);
      ASSERT_NO_FATAL_FAILURE(expectSameDecoding(*type, json, tally));
    }
  }
  // Deep nesting: the reference's depth limit, with the same message.
  std::string deep = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":)";
  for (int i = 0; i < 120; ++i) deep += R"({"arrayValue":{"values":[)";
  for (int i = 0; i < 120; ++i) deep += "]}}";
  deep += "}]}]}]}";
  expectSameDecoding(*LogsRequest::descriptor(), deep, tally);
  // JSON nested past the DOM parser's limit (1024), in an unknown field and in known ones.
  for (int levels : {1020, 1021, 1022, 1023, 1030}) {
    std::string unknown = R"({"resourceLogs":[{"x":)" +
                          std::string(static_cast<size_t>(levels), '[') +
                          std::string(static_cast<size_t>(levels), ']') + "}]}";
    expectSameDecoding(*LogsRequest::descriptor(), unknown, tally);
  }
  std::string known = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":)";
  for (int i = 0; i < 400; ++i) known += R"({"arrayValue":{"values":[)";
  for (int i = 0; i < 400; ++i) known += "]}}";
  known += "}]}]}]}";
  expectSameDecoding(*LogsRequest::descriptor(), known, tally);
}

// The decoder's fast paths (ids decoded eight hex digits at a time, keys matched in place,
// strings ended by their token, short decimal strings read directly) against the reference on
// every byte value and the edges around them.
TEST(JsonWire, FastPathsAsTheReflectionCodec) {
  Tally tally;
  const auto span = [](const std::string& members) {
    return R"({"resourceSpans":[{"scopeSpans":[{"spans":[{)" + members + "}]}]}]}";
  };
  // Every byte value at every place of a trace id and a span id (escaped where JSON needs it).
  for (int byte = 1; byte < 256; ++byte) {
    const std::string digit = byte < 0x20 || byte >= 0x7f || byte == '"' || byte == '\\'
                                  ? absl::StrFormat("\\u%04x", byte)
                                  : std::string(1, static_cast<char>(byte));
    for (size_t at = 0; at < 32; at += 5) {
      std::string trace_id(32, 'a');
      trace_id.replace(at, 1, digit);
      std::string span_id = "0123456789ABCDEF";
      span_id.replace(at % 16, 1, digit);
      expectSameDecoding(*TracesRequest::descriptor(),
                         span(R"("traceId":")" + trace_id + R"(","spanId":")" + span_id + "\""),
                         tally);
    }
  }
  // Decimal strings of every length around 19 digits, with leading zeros and past the ranges.
  for (const char* digits :
       {"0", "00", "7", "0000000000000000001", "999999999999999999", "9223372036854775807",
        "9223372036854775808", "9999999999999999999", "18446744073709551615",
        "18446744073709551616", "00000000000000000000001", "-0", "-1", "1x", "", "+1", " 1",
        "1\\u0030", "\\u0031"}) {
    expectSameDecoding(*TracesRequest::descriptor(),
                       span(absl::StrCat(R"("startTimeUnixNano":")", digits, "\"")), tally);
    expectSameDecoding(
        *MetricsRequest::descriptor(),
        absl::StrCat(
            R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"asInt":")",
            digits, R"("}]}}]}]}]})"),
        tally);
  }
  // Keys: escaped, proto names, prefixes and extensions of names, white space around them.
  for (const char* members :
       {R"("na\u006de":"x")", R"("name":"x","name":"y")", R"("nam":"x")", R"("namex":"x")",
        R"("start_time_unix_nano":"5")", R"( "name" : "x" , "kind" : 2 )", R"("name" :"a\"b")",
        R"("name":"a\\")", R"("name":"")", R"("name":"" )", R"("traceState":"k=v\n")",
        R"("droppedAttributesCount":1,"droppedEventsCount":2,"droppedLinksCount":3)",
        R"("droppedAttributesCountX":1)", R"("name":"\u00e9\ud83d\ude00")"}) {
    expectSameDecoding(*TracesRequest::descriptor(), span(members), tally);
  }
  EXPECT_GT(tally.ok, 100);
  EXPECT_GT(tally.same_error, 100);
}

// Attributes in the form senders write (`{"key":"K","value":{"stringValue":"S"}}`, intValue as
// a decimal string, boolValue) are read straight from the text: every near miss of that form, in
// every signal's attribute lists, decodes (or is refused) as the reflection codec does, and the
// bytes are protobuf's own serialisation.
TEST(JsonWire, AttributesReadInPlaceAsTheReflectionCodec) {
  Tally tally;
  const std::string long_text(200, 'x');  // a two-byte length
  const std::string long_key(130, 'k');
  const std::vector<std::string> values = {
      R"({"stringValue":"v"})",
      R"({"stringValue":""})",
      R"({"stringValue":")" + long_text + R"("})",
      R"({"stringValue":"\u00e9\ud83d\ude00 é"})",
      R"({"stringValue":"a\"b"})",
      R"({"stringValue":"a\\"})",
      R"({"stringValue":"v" })",
      R"({ "stringValue":"v"})",
      R"({"stringValue" :"v"})",
      R"({"stringValue":"v","stringValue":"w"})",
      R"({"stringValue":"v","intValue":"1"})",
      R"({"stringValue":5})",
      R"({"stringValue":null})",
      R"({"string_value":"v"})",
      R"({"stringValueX":"v"})",
      R"({"intValue":"0"})",
      R"({"intValue":"500"})",
      R"({"intValue":"007"})",
      R"({"intValue":"9223372036854775807"})",
      R"({"intValue":"9223372036854775808"})",
      R"({"intValue":"9999999999999999999"})",
      R"({"intValue":"00000000000000000000001"})",
      R"({"intValue":"-1"})",
      R"({"intValue":""})",
      R"({"intValue":"1x"})",
      R"({"intValue":"\u0031"})",
      R"({"intValue":5})",
      R"({"intValue":5.0})",
      R"({"boolValue":true})",
      R"({"boolValue":false})",
      R"({"boolValue":true })",
      R"({"boolValue":tru})",
      R"({"boolValue":"true"})",
      R"({"boolValue":truex})",
      R"({"doubleValue":1.5})",
      R"({"bytesValue":"AQID"})",
      R"({"arrayValue":{"values":[{"stringValue":"v"}]}})",
      R"({"kvlistValue":{"values":[{"key":"k","value":{"intValue":"1"}}]}})",
      R"({})",
      R"(null)",
      R"("v")",
  };
  std::vector<std::string> attributes;
  for (const std::string& value : values) {
    for (const std::string& key : {std::string("k"), std::string(), long_key,
                                   std::string(R"(k\"q)"), std::string(R"(\u006b)")}) {
      attributes.push_back(R"({"key":")" + key + R"(","value":)" + value + "}");
    }
    attributes.push_back(R"({"value":)" + value + R"(,"key":"k"})");
    attributes.push_back(R"({"key":"k","value":)" + value + R"(,"key":"q"})");
    attributes.push_back(R"({"key":"k","value":)" + value + R"(,"x":1})");
    attributes.push_back(R"({"key":"k","value":)" + value + "} ");
  }
  for (const char* odd :
       {R"({"key":"k"})", R"({"key":"k","value":null})", R"({})", "null",
        R"({"key":"k","value":{"stringValue":"v"}}})", R"({"key":"k","value":{"stringValue":"v"})",
        R"({"key" :"k","value":{"stringValue":"v"}})",
        R"({"key":"k", "value":{"stringValue":"v"}})"}) {
    attributes.push_back(odd);
  }
  const auto traces = [](const std::string& list) {
    return R"({"resourceSpans":[{"resource":{"attributes":)" + list +
           R"(},"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",)"
           R"("spanId":"0102030405060708","attributes":)" +
           list + R"(,"events":[{"attributes":)" + list + "}]}]}]}]}";
  };
  const auto logs = [](const std::string& list) {
    return R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":)" + list + "}]}]}]}";
  };
  const auto metrics = [](const std::string& list) {
    return R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"attributes":)" +
           list + "}]}}]}]}]}";
  };
  for (const std::string& attribute : attributes) {
    for (const std::string& list :
         {"[" + attribute + "]", "[" + attribute + "," + attribute + "]",
          R"([{"key":"a","value":{"intValue":"1"}},)" + attribute + "]", "[" + attribute}) {
      expectSameDecoding(*TracesRequest::descriptor(), traces(list), tally);
      expectSameDecoding(*LogsRequest::descriptor(), logs(list), tally);
      expectSameDecoding(*MetricsRequest::descriptor(), metrics(list), tally);
    }
  }
  EXPECT_GT(tally.ok, 500);
  EXPECT_GT(tally.same_error, 100);
  EXPECT_GT(tally.syntax_error, 100);
  EXPECT_GT(tally.vouched, 100);
  // The forms read in place, the whole request in canonical field order: protobuf's bytes.
  int canonical = 0;
  for (const size_t v : {0, 1, 2, 3, 15, 16, 18, 28, 29}) {
    for (const std::string& key : {std::string("k"), std::string(), long_key}) {
      const std::string list = R"([{"key":")" + key + R"(","value":)" + values[v] + "}]";
      Tally exact;
      expectSameDecoding(*LogsRequest::descriptor(), logs(list), exact);
      EXPECT_EQ(exact.ok, 1) << list;
      EXPECT_EQ(exact.same_bytes, 1) << list;
      ++canonical;
    }
  }
  EXPECT_EQ(canonical, 27);
}

// A text cut anywhere inside an attribute, in a buffer whose bytes past the cut continue the
// form read in place (as a reused buffer holds an earlier request's text), up to a string that
// never closes and the end of the buffer: judged as the reflection codec judges the text, and
// under ASan nothing is read past the buffer. (simdjson refuses such texts before the walk today:
// an unclosed string, a last token other than `}`, a `}` right after the text of an unbalanced
// one; the decoder also bounds the form by the text's end itself.)
TEST(JsonWire, AttributesReadInPlaceStopAtTheEndOfTheText) {
  const std::string prefix = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[)";
  const std::string closers = "]}]}]}]}";
  size_t judged_alike = 0, cuts = 0, accepted = 0;
  for (const std::string& form : {R"({"key":"k","value":{"stringValue":")" + std::string(80, 'x'),
                                  R"({"key":"k","value":{"intValue":")" + std::string(80, '1'),
                                  R"({"key":"k","value":{"stringValue":"v"}})" + closers,
                                  R"({"key":"k","value":{"intValue":"7"}})" + closers,
                                  R"({"key":"k","value":{"boolValue":true}})" + closers}) {
    cuts += form.size() + 1;
    for (size_t cut = 0; cut <= form.size(); ++cut) {
      const std::string text = prefix + form.substr(0, cut);
      const std::string bytes = text + form.substr(cut) + std::string(64, 'x');
      const auto buffer = std::make_unique<char[]>(bytes.size());  // nothing readable past it
      std::memcpy(buffer.get(), bytes.data(), bytes.size());
      std::string wire;
      const absl::Status got =
          otlpJsonToWire(*LogsRequest::descriptor(), std::string_view(buffer.get(), text.size()),
                         bytes.size(), wire);
      LogsRequest reference;
      const absl::Status expected = parseOtlpJson(text, reference);
      ASSERT_EQ(expected.ok(), got.ok()) << expected << "\n" << got << "\n" << text;
      if (got.ok()) {
        LogsRequest decoded;
        ASSERT_TRUE(decoded.ParseFromString(wire)) << text;
        std::string diff;
        ASSERT_TRUE(sameMessage(reference, decoded, &diff)) << diff << "\n" << text;
        ++accepted;
      }
      ++judged_alike;
    }
  }
  EXPECT_EQ(judged_alike, cuts);
  EXPECT_EQ(accepted, 3u);  // the three complete requests
}

// The fields of the wire-encoded message `bytes` of type `type` in a random order, at every
// nesting level: with `groups`, the occurrences of each field stay together (a serialiser that
// writes fields in declaration order, or any other); without, every occurrence goes anywhere.
std::string reorderFields(const Descriptor& type, std::string_view bytes, Generator& g,
                          bool groups) {
  struct Piece {
    uint32_t number;
    std::string bytes;
  };
  std::vector<Piece> pieces;
  wire::Reader reader(bytes);
  wire::Field field;
  while (!reader.done()) {
    const char* start = reader.position();
    if (reader.next(field) != wire::Stop::kNone) return std::string(bytes);
    const FieldDescriptor* f = type.FindFieldByNumber(static_cast<int>(field.number));
    Piece piece{field.number, {}};
    if (f != nullptr && f->type() == FieldDescriptor::TYPE_MESSAGE &&
        field.type == wire::kLengthDelimited) {
      wire::appendLengthDelimited(
          field.number, reorderFields(*f->message_type(), field.bytes, g, groups), piece.bytes);
    } else {
      piece.bytes.assign(start, reader.position());
    }
    pieces.push_back(std::move(piece));
  }
  std::vector<std::vector<size_t>> runs;  // pieces written together
  std::map<uint32_t, size_t> run_of_number;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (!groups) {
      runs.push_back({i});
      continue;
    }
    auto [it, added] = run_of_number.emplace(pieces[i].number, runs.size());
    if (added) runs.emplace_back();
    runs[it->second].push_back(i);
  }
  for (size_t i = runs.size(); i > 1; --i) {
    std::swap(runs[i - 1], runs[static_cast<size_t>(g.below(static_cast<int>(i)))]);
  }
  std::string out;
  for (const auto& run : runs) {
    for (size_t i : run) out += pieces[i].bytes;
  }
  return out;
}

TEST(JsonWire, EncodesFieldsInAnyOrderAsTheReflectionCodec) {
  // Canonical bytes are in field-number order, the direct decoder's in the text's key order, and
  // other writers' in any: a field that comes after fields declared after it is moved into place
  // (its occurrences together), and split occurrences take the general path.
  for (const Descriptor* type : kTypes) {
    Generator g(7);
    for (int i = 0; i < 200; ++i) {
      auto m = newMessage(*type);
      g.fill(*m, 0);
      for (bool groups : {true, false}) {
        const std::string wire = reorderFields(*type, m->SerializeAsString(), g, groups);
        auto parsed = newMessage(*type);
        ASSERT_TRUE(parsed->ParseFromString(wire));
        std::string direct = "prefix:";
        ASSERT_TRUE(appendOtlpJsonFromWire(*type, wire, direct)) << groups;
        ASSERT_EQ("prefix:" + toOtlpJson(*parsed), direct) << groups;
      }
    }
  }
}

TEST(JsonWire, LoadgenRequestsRoundTrip) {
  for (pipeline::Signal signal :
       {pipeline::Signal::kTraces, pipeline::Signal::kMetrics, pipeline::Signal::kLogs}) {
    auto request =
        loadgen::makeRequest(signal, loadgen::Shape::kRealistic, 50, 3, 1'700'000'000'000'000'000);
    const Message& m = *request;
    expectSameEncoding(m);
    Tally tally;
    expectSameDecoding(*m.GetDescriptor(), toOtlpJson(m), tally);
    EXPECT_EQ(1, tally.ok);
    // Loadgen's spans are valid: the receiver skips the wire view's walk for them.
    if (signal == pipeline::Signal::kTraces) {
      EXPECT_EQ(1, tally.vouched);
    }
  }
}

}  // namespace
}  // namespace otlpd::otlp
