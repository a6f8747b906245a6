#include "processors/common/attribute_actions.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cmath>
#include <string>
#include <vector>

#include "editing_test_support.h"
#include "processors/common/config_value.h"

namespace otlpd::processors {
namespace {

using testing::Attrs;
using testing::boolean;
using testing::bytes;
using testing::dbl;
using testing::i64;
using testing::render;
using testing::str;

// Actions read from a processor config holding `actions:`.
struct Read {
  AttributeActions actions;
  std::string errors;
};
Read readActions(std::string_view yaml) {
  config::ConfigErrors errors;
  auto node = config::parseYaml(yaml, "test");
  EXPECT_TRUE(node.ok());
  config::ConfigNode cfg(*node, "processors.attributes", errors);
  AttributeActions actions = AttributeActions::read(cfg, "actions");
  cfg.rejectUnknownKeys();
  return {std::move(actions), errors.toString()};
}

// Applies the actions to `attrs` through an AttributeList parsed from their encoding, and renders
// what the list encodes afterwards.
std::string apply(std::string_view yaml, const Attrs& attrs,
                  const MetadataLookup* metadata = nullptr) {
  Read read = readActions(yaml);
  EXPECT_EQ(read.errors, "");
  std::vector<std::string> encoded;
  for (const auto& [k, v] : attrs) {
    otlp::pb_common::KeyValue kv;
    kv.set_key(k);
    *kv.mutable_value() = v;
    encoded.push_back(kv.SerializeAsString());
  }
  std::vector<std::string_view> views(encoded.begin(), encoded.end());
  otlp::AttributeList list;
  EXPECT_TRUE(list.parse(views));
  read.actions.apply(list, metadata);
  std::string out;
  list.encode(1, out);
  otlp::pb_resource::Resource resource;  // its attributes are field 1
  EXPECT_TRUE(resource.ParseFromString(out));
  return render(resource.attributes());
}

TEST(AttributeActionsTest, InsertAddsOnlyMissingKeysWithTheConfiguredType) {
  const char* yaml = R"(actions:
  - {key: attribute1, value: 123, action: insert}
  - {key: string key, from_attribute: anotherkey, action: insert}
  - {key: quoted, value: "123", action: insert}
  - {key: ratio, value: 0.5, action: insert}
  - {key: flag, value: true, action: insert}
  - {key: list, value: [1, "a"], action: insert}
  - {key: map, value: {x: 1}, action: INSERT}
)";
  EXPECT_EQ(apply(yaml, {{"anotherkey", str("v")}}),
            "anotherkey=\"v\" attribute1=123 string key=\"v\" quoted=\"123\" ratio=double:0.5 "
            "flag=true list=[1, \"a\"] map={x: 1}");
  // Present keys stay; an absent from_attribute inserts nothing.
  EXPECT_EQ(apply(yaml, {{"attribute1", str("keep")}, {"quoted", i64(1)}}),
            "attribute1=\"keep\" quoted=1 ratio=double:0.5 flag=true list=[1, \"a\"] map={x: 1}");
}

TEST(AttributeActionsTest, UpdateChangesOnlyPresentKeys) {
  const char* yaml = R"(actions:
  - {key: boo, from_attribute: foo, action: update}
  - {key: db.secret, value: redacted, action: update}
)";
  EXPECT_EQ(apply(yaml, {{"foo", i64(7)}, {"boo", str("x")}, {"db.secret", str("pw")}}),
            "foo=7 boo=7 db.secret=\"redacted\"");
  EXPECT_EQ(apply(yaml, {{"foo", i64(7)}}), "foo=7");
  EXPECT_EQ(apply(yaml, {{"boo", str("x")}}), "boo=\"x\"");
}

TEST(AttributeActionsTest, UpsertInsertsOrUpdates) {
  const char* yaml = R"(actions:
  - {key: region, value: planet-earth, action: upsert}
  - {key: new_user_key, from_attribute: user_key, action: upsert}
)";
  EXPECT_EQ(apply(yaml, {{"region", str("mars")}, {"user_key", i64(1)}}),
            "region=\"planet-earth\" user_key=1 new_user_key=1");
  EXPECT_EQ(apply(yaml, {}), "region=\"planet-earth\"");
}

TEST(AttributeActionsTest, CollectorComplexExampleBackfillsCopiesAndDeletes) {
  // The Collector's attributes/complex example, span by span.
  const char* yaml = R"(actions:
  - {key: operation, value: default, action: insert}
  - {key: svc.operation, from_attribute: operation, action: upsert}
  - {key: operation, action: delete}
)";
  EXPECT_EQ(apply(yaml, {{"timeout", i64(10)},
                         {"svc.operation", str("addition")},
                         {"operation", str("addition")}}),
            "timeout=10 svc.operation=\"addition\"");
  EXPECT_EQ(apply(yaml, {{"operation", str("subtract")}, {"math_value", i64(123)}}),
            "math_value=123 svc.operation=\"subtract\"");
  EXPECT_EQ(apply(yaml, {{"timeout", i64(10)}, {"math_value", i64(4)}}),
            "timeout=10 math_value=4 svc.operation=\"default\"");
  EXPECT_EQ(apply(yaml, {{"svc.operation", str("division")}, {"timeout", i64(3)}}),
            "svc.operation=\"default\" timeout=3");
}

TEST(AttributeActionsTest, DeleteByKeyAndByPattern) {
  EXPECT_EQ(apply("actions: [{key: credit_card, action: delete}]",
                  {{"credit_card", str("1234")}, {"name", str("a")}}),
            "name=\"a\"");
  EXPECT_EQ(apply("actions: [{key: missing, action: delete}]", {{"name", str("a")}}), "name=\"a\"");
  // The pattern is matched anywhere in the key (Go's MatchString), not anchored.
  EXPECT_EQ(apply("actions: [{pattern: 'secret', action: delete}]",
                  {{"db.secret", str("x")}, {"secret_token", i64(1)}, {"name", str("a")}}),
            "name=\"a\"");
  EXPECT_EQ(apply("actions: [{key: a, pattern: '^b\\.', action: delete}]",
                  {{"a", str("x")}, {"b.1", i64(1)}, {"ab.2", i64(2)}}),
            "ab.2=2");
}

TEST(AttributeActionsTest, HashIsSha256HexOfTheValueAsTheCollectorFeedsIt) {
  const char* yaml = "actions: [{key: v, action: hash}]";
  EXPECT_EQ(apply(yaml, {{"v", str("john.doe@example.com")}}),
            "v=\"836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f\"");
  // Ints and doubles as 8 little-endian bytes, bools as one byte.
  EXPECT_EQ(apply(yaml, {{"v", i64(2245)}}),
            "v=\"91df0e58e24451873e480a434ac913ec45d00603e21470511a89c1e850e58c87\"");
  EXPECT_EQ(apply(yaml, {{"v", i64(-1)}}),
            "v=\"12a3ae445661ce5dee78d0650d33362dec29c4f82af05e7e57fb595bbbacf0ca\"");
  EXPECT_EQ(apply(yaml, {{"v", boolean(true)}}),
            "v=\"4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a\"");
  EXPECT_EQ(apply(yaml, {{"v", boolean(false)}}),
            "v=\"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d\"");
  EXPECT_EQ(apply(yaml, {{"v", dbl(1.5)}}),
            "v=\"e163f8cb0f7067a7fc78ca859a77f849aea3214f38fb75b884e4a16be725c905\"");
  EXPECT_EQ(apply(yaml, {{"v", str("")}}),
            "v=\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"");
  // Bytes, arrays and maps become "".
  EXPECT_EQ(apply(yaml, {{"v", bytes("\x01\x02")}}), "v=\"\"");
  EXPECT_EQ(apply(yaml, {{"w", str("x")}}), "w=\"x\"");
}

// sha256Hex keeps recent digests of short values: whatever the table holds, every answer is the
// digest of the value asked for (values that share a slot, at the size limit, asked again).
TEST(AttributeActionsTest, Sha256HexAnswersTheDigestOfEveryValueAskedAgainAndAgain) {
  auto reference = [](std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EXPECT_EQ(EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr), 1);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < size; ++i) {
      hex += kDigits[digest[i] >> 4];
      hex += kDigits[digest[i] & 0xf];
    }
    return hex;
  };
  std::vector<std::string> values = {"", "a", std::string(46, 'x'), std::string(47, 'x'),
                                     std::string(1000, 'y')};
  for (int i = 0; i < 3000; ++i) values.push_back("203.0.113." + std::to_string(i));
  for (int round = 0; round < 3; ++round) {
    for (const std::string& v : values) {
      char hex[64];
      sha256Hex(v, hex);
      ASSERT_EQ(std::string(hex, 64), reference(v)) << v << " in round " << round;
    }
  }
}

TEST(AttributeActionsTest, HashByPatternHashesAKeyThatIsAlsoNamedTwice) {
  EXPECT_EQ(apply("actions: [{pattern: '^pw', action: hash}]",
                  {{"pw", str("secret")}, {"user", str("a")}}),
            "pw=\"2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b\" user=\"a\"");
  EXPECT_EQ(apply("actions: [{key: pw, pattern: '^pw', action: hash}]", {{"pw", str("secret")}}),
            "pw=\"3d91b58504a6cc3a159005ee7b16c7ae503ca6ac2a6a3c893837083c236b864a\"");
}

TEST(AttributeActionsTest, ExtractUpsertsNamedGroupsOfTheCollectorExample) {
  const char* yaml = R"(actions:
  - key: http.url
    pattern: ^(?P<http_protocol>.*):\/\/(?P<http_domain>.*)\/(?P<http_path>.*)(\?|\&)(?P<http_query_params>.*)
    action: extract
)";
  // Go refuses unnamed groups; the Collector example has one, so it is a config error.
  EXPECT_NE(readActions(yaml).errors, "");
  const char* named = R"(actions:
  - key: http.url
    pattern: ^(?P<http_protocol>.*):\/\/(?P<http_domain>.*)\/(?P<http_path>.*)[?&](?P<http_query_params>.*)
    action: extract
)";
  EXPECT_EQ(apply(named, {{"http.url", str("http://example.com/path?queryParam1=value1,"
                                           "queryParam2=value2")},
                          {"http_path", str("old")}}),
            "http.url=\"http://example.com/path?queryParam1=value1,queryParam2=value2\" "
            "http_path=\"path\" http_protocol=\"http\" http_domain=\"example.com\" "
            "http_query_params=\"queryParam1=value1,queryParam2=value2\"");
  // No match, or not a string: nothing happens.
  EXPECT_EQ(apply(named, {{"http.url", str("nope")}}), "http.url=\"nope\"");
  EXPECT_EQ(apply(named, {{"http.url", i64(1)}}), "http.url=1");
}

TEST(AttributeActionsTest, ExtractIsUnanchoredAndGivesEmptyStringsForUnusedGroups) {
  const char* yaml = R"(actions:
  - {key: msg, pattern: 'user=(?P<user>\w+)(?: id=(?P<id>\d+))?', action: extract}
)";
  EXPECT_EQ(apply(yaml, {{"msg", str("login user=bob ok")}}),
            "msg=\"login user=bob ok\" user=\"bob\" id=\"\"");
}

TEST(AttributeActionsTest, ExtractRefusesUnnamedGroups) {
  EXPECT_NE(readActions(R"(actions: [{key: a, pattern: '(?P<x>a)(b)', action: extract}])").errors,
            "");
}

TEST(AttributeActionsTest, ConvertFollowsTheCollectorsRules) {
  const char* to_int = "actions: [{key: v, action: convert, converted_type: int}]";
  EXPECT_EQ(apply(to_int, {{"v", str("200")}}), "v=200");
  EXPECT_EQ(apply(to_int, {{"v", str("+5")}}), "v=5");
  EXPECT_EQ(apply(to_int, {{"v", str("-12")}}), "v=-12");
  EXPECT_EQ(apply(to_int, {{"v", str("12.5")}}), "v=\"12.5\"");  // ParseInt fails: unchanged
  EXPECT_EQ(apply(to_int, {{"v", str("abc")}}), "v=\"abc\"");
  EXPECT_EQ(apply(to_int, {{"v", str("99999999999999999999")}}), "v=\"99999999999999999999\"");
  EXPECT_EQ(apply(to_int, {{"v", dbl(3.9)}}), "v=3");  // truncated toward zero
  EXPECT_EQ(apply(to_int, {{"v", dbl(-3.9)}}), "v=-3");
  EXPECT_EQ(apply(to_int, {{"v", boolean(true)}}), "v=1");
  EXPECT_EQ(apply(to_int, {{"v", boolean(false)}}), "v=0");
  EXPECT_EQ(apply(to_int, {{"v", bytes("x")}}), "v=bytes:x");

  const char* to_double = "actions: [{key: v, action: convert, converted_type: double}]";
  EXPECT_EQ(apply(to_double, {{"v", i64(3)}}), "v=double:3");
  EXPECT_EQ(apply(to_double, {{"v", str("1e3")}}), "v=double:1000");
  EXPECT_EQ(apply(to_double, {{"v", str("2.5")}}), "v=double:2.5");
  EXPECT_EQ(apply(to_double, {{"v", str("x1")}}), "v=\"x1\"");
  EXPECT_EQ(apply(to_double, {{"v", boolean(true)}}), "v=double:1");

  const char* to_string = "actions: [{key: v, action: convert, converted_type: string}]";
  EXPECT_EQ(apply(to_string, {{"v", i64(42)}}), "v=\"42\"");
  EXPECT_EQ(apply(to_string, {{"v", boolean(false)}}), "v=\"false\"");
  EXPECT_EQ(apply(to_string, {{"v", dbl(2.5)}}), "v=\"2.5\"");
  EXPECT_EQ(apply(to_string, {{"v", str("s")}}), "v=\"s\"");
  EXPECT_EQ(apply(to_string, {{"w", i64(1)}}), "w=1");
}

TEST(AttributeActionsTest, FromContextReadsRequestMetadata) {
  const char* yaml = R"(actions:
  - {key: tenant, from_context: metadata.x-tenant, action: insert}
  - {key: origin, from_context: origin, action: insert}
  - {key: subject, from_context: auth.subject, action: insert}
  - {key: region, from_context: metadata.region, default_value: eu, action: upsert}
)";
  std::vector<std::string> asked;
  MetadataLookup lookup = [&](std::string_view key) -> std::optional<std::string_view> {
    asked.emplace_back(key);
    if (key == "x-tenant") return "acme;beta";
    if (key == "origin") return "edge";
    if (key == "auth.subject") return "alice";
    return std::nullopt;
  };
  EXPECT_EQ(apply(yaml, {}, &lookup),
            "tenant=\"acme;beta\" origin=\"edge\" subject=\"alice\" region=\"eu\"");
  EXPECT_EQ(asked, (std::vector<std::string>{"x-tenant", "origin", "auth.subject", "region"}));
  // Without metadata every from_context is absent; only the default applies.
  EXPECT_EQ(apply(yaml, {}), "region=\"eu\"");
}

TEST(AttributeActionsTest, LookupInReadsAuthAttributesApartFromMetadata) {
  pipeline::RequestMetadata metadata;
  metadata.add("X-Tenant", "from-header");
  metadata.addAuth("subject", "alice");
  std::string joined;
  MetadataLookup lookup = lookupIn(metadata, joined);
  EXPECT_EQ(lookup("x-tenant"), "from-header");
  EXPECT_EQ(lookup("auth.subject"), "alice");
  // A header is never taken for an auth attribute, nor the other way round.
  EXPECT_EQ(lookup("auth.x-tenant"), std::nullopt);
  EXPECT_EQ(lookup("subject"), std::nullopt);
}

TEST(AttributeActionsTest, DefaultValueFillsInForAMissingSource) {
  const char* yaml = R"(actions:
  - {key: region, from_attribute: cloud.region, default_value: us-east-1, action: insert}
)";
  EXPECT_EQ(apply(yaml, {{"cloud.region", str("eu-west-1")}}),
            "cloud.region=\"eu-west-1\" region=\"eu-west-1\"");
  EXPECT_EQ(apply(yaml, {}), "region=\"us-east-1\"");
}

TEST(AttributeActionsTest, ActionsApplyInOrder) {
  const char* yaml = R"(actions:
  - {key: db.table, action: delete}
  - {key: redacted_span, value: true, action: upsert}
  - {key: copy_key, from_attribute: key_original, action: update}
  - {key: account_id, value: 2245, action: insert}
  - {key: account_password, action: delete}
  - {key: account_email, action: hash}
  - {key: http.status_code, action: convert, converted_type: int}
)";
  EXPECT_EQ(apply(yaml, {{"db.table", str("users")},
                         {"copy_key", str("old")},
                         {"key_original", str("new")},
                         {"account_password", str("pw")},
                         {"account_email", str("john.doe@example.com")},
                         {"http.status_code", str("404")}}),
            "copy_key=\"new\" key_original=\"new\" "
            "account_email=\"836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f\" "
            "http.status_code=404 redacted_span=true account_id=2245");
}

// Config errors, under the conditions the Collector's NewAttrProc refuses an action.
TEST(AttributeActionsTest, ConfigErrorsNameTheField) {
  auto errors = [](std::string_view actions) {
    return readActions(std::string("actions:\n") + std::string(actions)).errors;
  };
  EXPECT_EQ(readActions("{}").errors,
            "processors.attributes.actions (line 1:1): missing required field \"actions\"");
  EXPECT_NE(readActions("actions: []").errors, "");
  EXPECT_EQ(readActions("actions: {key: a}").errors,
            "processors.attributes.actions (line 1:10): must be a list");
  EXPECT_EQ(errors("  - {value: 1, action: insert}"),
            "processors.attributes.actions[0].key (line 2:5): is required");
  EXPECT_NE(errors("  - {action: delete}").find("at least one of \"key\" and \"pattern\""),
            std::string::npos);
  EXPECT_NE(errors("  - {key: a, action: insert}").find("needs one of"), std::string::npos);
  EXPECT_NE(
      errors("  - {key: a, value: 1, from_attribute: b, action: upsert}").find("actions[0].value"),
      std::string::npos);
  EXPECT_NE(errors("  - {key: a, from_attribute: b, from_context: c, action: upsert}")
                .find("only one of"),
            std::string::npos);
  EXPECT_NE(errors("  - {key: a, value: 1, pattern: x, action: insert}").find("pattern"),
            std::string::npos);
  EXPECT_NE(
      errors("  - {key: a, value: 1, converted_type: int, action: update}").find("converted_type"),
      std::string::npos);
  EXPECT_NE(errors("  - {key: a, value: 1, action: delete}").find("actions[0].value"),
            std::string::npos);
  EXPECT_NE(errors("  - {key: a, from_attribute: b, action: hash}").find("from_attribute"),
            std::string::npos);
  EXPECT_NE(errors("  - {pattern: '(', action: hash}").find("invalid pattern"), std::string::npos);
  EXPECT_NE(errors("  - {key: a, action: extract}").find("is required for action \"extract\""),
            std::string::npos);
  EXPECT_NE(errors("  - {key: a, pattern: 'a+', action: extract}").find("no named"),
            std::string::npos);
  EXPECT_NE(errors("  - {key: a, value: 1, pattern: '(?P<x>a)', action: extract}").find("value"),
            std::string::npos);
  EXPECT_NE(errors("  - {key: a, action: convert}").find("is required for action \"convert\""),
            std::string::npos);
  EXPECT_NE(errors("  - {key: a, action: convert, converted_type: float}").find("invalid value"),
            std::string::npos);
  EXPECT_NE(
      errors("  - {key: a, action: convert, converted_type: int, pattern: x}").find("pattern"),
      std::string::npos);
  EXPECT_NE(errors("  - {key: a, action: rename}").find("unsupported action \"rename\""),
            std::string::npos);
  EXPECT_NE(errors("  - {key: a, action: delete, default_value: x}").find("default_value"),
            std::string::npos);
  const std::string unknown = errors("  - {key: a, action: delete, colour: red}");
  EXPECT_NE(unknown.find("actions[0].colour (line 2:"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("unknown key"), std::string::npos) << unknown;
  EXPECT_NE(errors("  - just-a-string").find("must be a mapping"), std::string::npos);
  // Every bad action is reported, not only the first.
  const std::string two = errors("  - {action: insert}\n  - {key: b, action: nope}");
  EXPECT_NE(two.find("actions[0]"), std::string::npos);
  EXPECT_NE(two.find("actions[1]"), std::string::npos);
}

TEST(AttributeActionsTest, GoNumberParsing) {
  EXPECT_EQ(goParseInt("123"), 123);
  EXPECT_EQ(goParseInt("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(goParseInt("9223372036854775808"), std::nullopt);
  EXPECT_EQ(goParseInt(""), std::nullopt);
  EXPECT_EQ(goParseInt("0x10"), std::nullopt);
  EXPECT_EQ(goParseInt("1_000"), std::nullopt);
  EXPECT_EQ(goParseFloat("1.5"), 1.5);
  EXPECT_EQ(goParseFloat("-.5"), -0.5);
  EXPECT_EQ(goParseFloat("+1e2"), 100);
  EXPECT_EQ(goParseFloat("0x1p-2"), 0.25);
  EXPECT_TRUE(std::isinf(*goParseFloat("-Inf")));
  EXPECT_TRUE(std::isinf(*goParseFloat("infinity")));
  EXPECT_TRUE(std::isnan(*goParseFloat("NaN")));
  EXPECT_EQ(goParseFloat("1e400"), std::nullopt);  // overflow is an error in Go
  EXPECT_EQ(goParseFloat("1e-400"), 0.0);          // underflow is not
  EXPECT_EQ(goParseFloat("1.5x"), std::nullopt);
  EXPECT_EQ(goParseFloat("nan(1)"), std::nullopt);
  EXPECT_EQ(goParseFloat(""), std::nullopt);
}

TEST(AttributeActionsTest, YamlValuesAreTypedAsTheCollectorTypesThem) {
  auto typed = [](std::string_view yaml) {
    auto node = config::parseYaml(std::string("v: ") + std::string(yaml), "t");
    EXPECT_TRUE(node.ok());
    std::optional<otlp::Value> v = valueFromYaml((*node)["v"]);
    return v ? otlp::valueAsString(*v) + ":" + std::to_string(static_cast<int>(v->kind()))
             : std::string("null");
  };
  using K = otlp::Value::Kind;
  auto kind = [](K k) {
    std::string out = ":";
    out += std::to_string(static_cast<int>(k));
    return out;
  };
  EXPECT_EQ(typed("123"), "123" + kind(K::kInt));
  EXPECT_EQ(typed("-0x1F"), "-31" + kind(K::kInt));
  EXPECT_EQ(typed("'123'"), "123" + kind(K::kString));
  EXPECT_EQ(typed("\"true\""), "true" + kind(K::kString));
  EXPECT_EQ(typed("True"), "true" + kind(K::kBool));
  EXPECT_EQ(typed("yes"), "yes" + kind(K::kString));  // YAML 1.2: not a bool
  EXPECT_EQ(typed("1.25"), "1.25" + kind(K::kDouble));
  EXPECT_EQ(typed("1e3"), "1000" + kind(K::kDouble));
  EXPECT_EQ(typed("~"), "null");
  EXPECT_EQ(typed("null"), "null");
  EXPECT_EQ(typed("hello world"), "hello world" + kind(K::kString));
  EXPECT_EQ(typed("99999999999999999999"), "100000000000000000000" + kind(K::kDouble));
}

}  // namespace
}  // namespace otlpd::processors
