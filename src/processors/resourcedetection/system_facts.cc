#include "processors/resourcedetection/system_facts.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"

namespace otlpd::processors::resourcedetection {
namespace {

std::optional<std::string> readFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::string> osHostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return std::nullopt;
  return std::string(name);
}

// The Collector's `dns` hostname source: the canonical name the resolver gives for the host name.
std::optional<std::string> fqdn(const std::string& hostname) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_CANONNAME;
  addrinfo* result = nullptr;
  if (::getaddrinfo(hostname.c_str(), nullptr, &hints, &result) != 0) return std::nullopt;
  std::optional<std::string> name;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_canonname != nullptr && ai->ai_canonname[0] != '\0') {
      std::string canonical = ai->ai_canonname;
      while (!canonical.empty() && canonical.back() == '.') canonical.pop_back();
      name = std::move(canonical);
      break;
    }
  }
  ::freeaddrinfo(result);
  return name;
}

}  // namespace

SystemFacts readSystemFacts(bool want_fqdn) {
  SystemFacts facts;
  facts.os_hostname = osHostname();
  if (want_fqdn && facts.os_hostname) facts.fqdn = fqdn(*facts.os_hostname);
  for (const char* path : {"/etc/machine-id", "/var/lib/dbus/machine-id"}) {
    if (std::optional<std::string> id = readFile(path)) {
      std::string trimmed(absl::StripAsciiWhitespace(*id));
      if (!trimmed.empty()) {
        facts.machine_id = std::move(trimmed);
        break;
      }
    }
  }
  utsname uts{};
  if (::uname(&uts) == 0) {
    facts.sysname = uts.sysname;
    facts.nodename = uts.nodename;
    facts.release = uts.release;
    facts.version = uts.version;
    facts.machine = uts.machine;
  }
  facts.os_release = readFile("/etc/os-release");
  if (!facts.os_release) facts.os_release = readFile("/usr/lib/os-release");
  return facts;
}

}  // namespace otlpd::processors::resourcedetection
