#include "processors/lookup/table.h"

#include <gtest/gtest.h>

namespace otlpd::processors::lookup {
namespace {

using Lines = std::vector<std::string>;
const std::vector<std::string> kServiceName = {"service.name"};

Lines flat(const LookupRow* row) {
  Lines out;
  if (row == nullptr) return {"<none>"};
  for (const auto& [k, v] : row->attributes) {
    const char* kind = v.kind() == otlp::Value::Kind::kString ? "" : "#";
    out.push_back(k + "=" + kind + otlp::valueAsString(v));
  }
  return out;
}

std::string error(std::string_view text, TableFormat format,
                  const std::vector<std::string>& keys = kServiceName) {
  auto table = parseLookupTable(text, format, keys);
  return table.ok() ? "ok" : std::string(table.status().message());
}

TEST(LookupTableTest, Formats) {
  EXPECT_EQ(tableFormatFromPath("/etc/otlpd/services.csv"), TableFormat::kCsv);
  EXPECT_EQ(tableFormatFromPath("a.JSON"), TableFormat::kJson);
  EXPECT_EQ(tableFormatFromPath("a.yml"), TableFormat::kYaml);
  EXPECT_EQ(tableFormatFromPath("a.yaml"), TableFormat::kYaml);
  EXPECT_EQ(tableFormatFromPath("dir.csv/table"), std::nullopt);
  EXPECT_EQ(tableFormatFromName("toml"), std::nullopt);
}

TEST(LookupTableTest, Csv) {
  auto table = parseLookupTable(
      "service.name,team,tier\r\n"
      "checkout,payments,1\r\n"
      "\"search, v2\",\"disc \"\"overy\"\"\",\n"
      "\n"
      "*,unowned,3\n",
      TableFormat::kCsv, kServiceName);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->size(), 2u);
  EXPECT_EQ(flat(table->find("checkout")), (Lines{"team=payments", "tier=1"}));
  // An empty cell adds nothing; quotes keep commas and double quotes.
  EXPECT_EQ(flat(table->find("search, v2")), (Lines{"team=disc \"overy\""}));
  EXPECT_EQ(flat(table->defaultRow()), (Lines{"team=unowned", "tier=3"}));
  EXPECT_EQ(table->find("cart"), nullptr);
}

TEST(LookupTableTest, CsvQuotedFieldsMaySpanLines) {
  auto table = parseLookupTable("service.name,note\na,\"line1\nline2\"\nb,x\"\n", TableFormat::kCsv,
                                kServiceName);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().message(), "line 4: a quote inside an unquoted field");
}

TEST(LookupTableTest, CsvErrorsNameTheLine) {
  EXPECT_EQ(error("", TableFormat::kCsv), "line 1: no header row");
  EXPECT_EQ(error("name,team\n", TableFormat::kCsv),
            "line 1: the header has no key column 'service.name'");
  EXPECT_EQ(error("service.name,team\na,b\n\nc\n", TableFormat::kCsv),
            "line 4: 1 fields where the header has 2");
  EXPECT_EQ(error("service.name,team\na,b\na,c\n", TableFormat::kCsv),
            "line 3: duplicate key 'a' (first on line 2)");
  EXPECT_EQ(error("service.name,team\n\"a,b\n", TableFormat::kCsv),
            "line 2: unterminated quoted field");
  EXPECT_EQ(error("service.name,team\n\"a\"x,b\n", TableFormat::kCsv),
            "line 2: text after a closing quote");
}

TEST(LookupTableTest, CompositeKeys) {
  const std::vector<std::string> keys = {"service.name", "deployment.environment"};
  auto table = parseLookupTable(
      "deployment.environment,service.name,owner\nprod,api,a\nstaging,api,b\n*,*,c\n",
      TableFormat::kCsv, keys);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(flat(table->find(std::vector<std::string_view>{"api", "prod"})), (Lines{"owner=a"}));
  EXPECT_EQ(flat(table->find(std::vector<std::string_view>{"api", "staging"})), (Lines{"owner=b"}));
  EXPECT_EQ(table->find(std::vector<std::string_view>{"prod", "api"}), nullptr);
  EXPECT_EQ(flat(table->defaultRow()), (Lines{"owner=c"}));
}

TEST(LookupTableTest, JsonListOfObjectsKeepsTypes) {
  auto table = parseLookupTable(R"([
	{"service.name": "checkout", "team": "payments", "tier": 1, "critical": true,
	 "cost": 2.5, "oncall": ["ann", "bob"], "note": null, "code": "007"},
	{"service.name": 42, "team": "numbers"}
])",
                                TableFormat::kJson, kServiceName);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(flat(table->find("checkout")),
            (Lines{"team=payments", "tier=#1", "critical=#true", "cost=#2.5",
                   "oncall=#[\"ann\",\"bob\"]", "code=007"}));
  EXPECT_EQ(flat(table->find("42")), (Lines{"team=numbers"}));
}

TEST(LookupTableTest, JsonObjectOfRows) {
  auto table = parseLookupTable(R"({"checkout": {"team": "payments"}, "*": {"team": "none"}})",
                                TableFormat::kJson, kServiceName);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(flat(table->find("checkout")), (Lines{"team=payments"}));
  EXPECT_EQ(flat(table->defaultRow()), (Lines{"team=none"}));
}

TEST(LookupTableTest, JsonErrorsNameTheLine) {
  EXPECT_EQ(error("[\n {\"service.name\": \"a\"},\n {\"team\": \"b\"}\n]", TableFormat::kJson),
            "line 3: the row has no value for the key 'service.name'");
  EXPECT_EQ(error("[\n {\"service.name\": \"a\"},\n 3\n]", TableFormat::kJson),
            "line 3: a row must be an object");
  EXPECT_NE(error("[\n {\"service.name\": \"a\",\n", TableFormat::kJson).find("line "),
            std::string::npos);
  EXPECT_EQ(error("\"text\"", TableFormat::kJson),
            "line 1: the table must be a list of objects or an object of rows");
  EXPECT_EQ(error("{\"a\": {}}", TableFormat::kJson, {"k1", "k2"}),
            "line 1: a table keyed by several attributes must be a list of objects");
}

TEST(LookupTableTest, Yaml) {
  auto table = parseLookupTable(
      "- service.name: checkout\n"
      "  team: payments\n"
      "  tier: 1\n"
      "  version: '1.10'\n"
      "- service.name: cart\n"
      "  team: shop\n"
      "  labels: {pci: true}\n",
      TableFormat::kYaml, kServiceName);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(flat(table->find("checkout")), (Lines{"team=payments", "tier=#1", "version=1.10"}));
  EXPECT_EQ(flat(table->find("cart")), (Lines{"team=shop", "labels=#{\"pci\":true}"}));
  EXPECT_EQ(error("- service.name: a\n- service.name: a\n", TableFormat::kYaml),
            "line 2: duplicate key 'a' (first on line 1)");
  EXPECT_NE(error("- service.name: a\n  team: [b\n", TableFormat::kYaml).find("line "),
            std::string::npos);
  EXPECT_TRUE(parseLookupTable("", TableFormat::kYaml, kServiceName).ok());
}

TEST(LookupTableTest, PrefixAndCustomDefaultKey) {
  auto table = parseLookupTable("service.name,team\na,x\nfallback,y\n", TableFormat::kCsv,
                                kServiceName, "fallback");
  ASSERT_TRUE(table.ok());
  table->prefixAttributes("owner.");
  EXPECT_EQ(flat(table->find("a")), (Lines{"owner.team=x"}));
  EXPECT_EQ(flat(table->defaultRow()), (Lines{"owner.team=y"}));
}

}  // namespace
}  // namespace otlpd::processors::lookup
