#include "processors/resourcedetection/detectors.h"

#include <gtest/gtest.h>

namespace otlpd::processors::resourcedetection {
namespace {

std::vector<std::string> flat(const DetectedAttributes& attrs) {
  std::vector<std::string> out;
  for (const auto& [k, v] : attrs) out.push_back(k + "=" + otlp::valueAsString(v));
  return out;
}

using Lines = std::vector<std::string>;

TEST(ResourceAttributesEnvTest, ParsesKeyValueListsTrimmedAndPercentDecoded) {
  auto attrs = parseResourceAttributes(
      " service.name = checkout ,deployment.environment=prod%2Ceu,team=a%20b%3Dc ");
  ASSERT_TRUE(attrs.ok()) << attrs.status();
  EXPECT_EQ(flat(*attrs),
            (Lines{"service.name=checkout", "deployment.environment=prod,eu", "team=a b=c"}));
}

TEST(ResourceAttributesEnvTest, EmptyMembersAndValuesAreAllowed) {
  auto attrs = parseResourceAttributes("a=1,,b=,");
  ASSERT_TRUE(attrs.ok()) << attrs.status();
  EXPECT_EQ(flat(*attrs), (Lines{"a=1", "b="}));
  EXPECT_TRUE(parseResourceAttributes("")->empty());
}

TEST(ResourceAttributesEnvTest, ALaterDuplicateWins) {
  auto attrs = parseResourceAttributes("a=1,a=2");
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(flat(*attrs), (Lines{"a=2"}));
}

TEST(ResourceAttributesEnvTest, AnyMalformedMemberDiscardsEverything) {
  EXPECT_FALSE(parseResourceAttributes("a=1,b").ok());
  EXPECT_FALSE(parseResourceAttributes("a=1,=2").ok());
  EXPECT_FALSE(parseResourceAttributes("a=%zz").ok());
  EXPECT_FALSE(parseResourceAttributes("a=50%").ok());
  auto env = detectEnv("a=1,b", std::nullopt);
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.status().message().find("OTEL_RESOURCE_ATTRIBUTES"), std::string::npos);
}

TEST(EnvDetectorTest, ServiceNameVariableWinsOverResourceAttributes) {
  auto attrs = detectEnv("service.name=from-attrs,k=v", "from-var");
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(flat(*attrs), (Lines{"service.name=from-var", "k=v"}));
  EXPECT_EQ(flat(*detectEnv(std::nullopt, "svc")), (Lines{"service.name=svc"}));
  EXPECT_TRUE(detectEnv(std::nullopt, std::nullopt)->empty());
  EXPECT_TRUE(detectEnv(std::nullopt, "  ")->empty());
}

SystemFacts facts() {
  SystemFacts f;
  f.fqdn = "web-1.prod.example.com";
  f.os_hostname = "web-1";
  f.machine_id = "4f1c2d";
  f.sysname = "Linux";
  f.nodename = "web-1";
  f.release = "6.1.0-18-amd64";
  f.version = "#1 SMP Debian";
  f.machine = "x86_64";
  f.os_release = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
  return f;
}

TEST(SystemDetectorTest, DefaultsAreHostNameFromDnsAndOsType) {
  auto attrs = detectSystem(facts(), SystemConfig{});
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(flat(*attrs), (Lines{"host.name=web-1.prod.example.com", "os.type=linux"}));
}

TEST(SystemDetectorTest, HostnameSourcesAreTriedInOrder) {
  SystemConfig os_first;
  os_first.hostname_sources = {"os", "dns"};
  EXPECT_EQ(flat(*detectSystem(facts(), os_first))[0], "host.name=web-1");

  SystemFacts no_dns = facts();
  no_dns.fqdn.reset();
  EXPECT_EQ(flat(*detectSystem(no_dns, SystemConfig{}))[0], "host.name=web-1");

  SystemConfig dns_only;
  dns_only.hostname_sources = {"dns"};
  auto failed = detectSystem(no_dns, dns_only);
  EXPECT_FALSE(failed.ok());  // like the Collector: no hostname, nothing detected
}

TEST(SystemDetectorTest, EnabledAttributes) {
  SystemConfig all;
  all.enabled = {"host.name", "host.id", "host.arch", "os.type", "os.description"};
  auto attrs = detectSystem(facts(), all);
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(flat(*attrs),
            (Lines{"host.name=web-1.prod.example.com", "host.id=4f1c2d", "host.arch=amd64",
                   "os.description=Debian GNU/Linux 12 (bookworm) (Linux web-1 6.1.0-18-amd64 "
                   "#1 SMP Debian x86_64)",
                   "os.type=linux"}));
  SystemConfig none;
  none.enabled = {};
  EXPECT_TRUE(detectSystem(facts(), none)->empty());
  SystemFacts no_id = facts();
  no_id.machine_id.reset();
  SystemConfig id_only;
  id_only.enabled = {"host.id"};
  EXPECT_TRUE(detectSystem(no_id, id_only)->empty());
}

TEST(SystemDetectorTest, HostArchUsesTheCollectorsSpelling) {
  EXPECT_EQ(hostArch("x86_64"), "amd64");
  EXPECT_EQ(hostArch("aarch64"), "arm64");
  EXPECT_EQ(hostArch("i686"), "x86");
  EXPECT_EQ(hostArch("armv7l"), "arm32");
  EXPECT_EQ(hostArch("ppc64le"), "ppc64");
  EXPECT_EQ(hostArch("s390x"), "s390x");
  EXPECT_EQ(hostArch("riscv64"), "riscv64");
}

TEST(SystemDetectorTest, OsDescription) {
  EXPECT_EQ(osReleaseName("NAME=Alpine\nVERSION='3.19'\n# PRETTY_NAME=x\n"), "Alpine 3.19");
  EXPECT_EQ(osReleaseName("ID=x\n"), std::nullopt);
  SystemFacts f = facts();
  f.os_release.reset();
  EXPECT_EQ(osDescription(f), "Linux web-1 6.1.0-18-amd64 #1 SMP Debian x86_64");
}

TEST(MergeDetectedTest, TheFirstDetectorToSetAnAttributeWins) {
  DetectedAttributes env = {{"host.name", otlp::Value::ofString("from-env")},
                            {"service.name", otlp::Value::ofString("svc")}};
  DetectedAttributes system = {{"host.name", otlp::Value::ofString("from-system")},
                               {"os.type", otlp::Value::ofString("linux")}};
  EXPECT_EQ(flat(mergeDetected({env, system})),
            (Lines{"host.name=from-env", "service.name=svc", "os.type=linux"}));
  EXPECT_EQ(flat(mergeDetected({system, env})),
            (Lines{"host.name=from-system", "os.type=linux", "service.name=svc"}));
}

}  // namespace
}  // namespace otlpd::processors::resourcedetection
