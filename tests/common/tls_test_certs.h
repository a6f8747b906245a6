// Certificates for TLS tests, made by Debian's `openssl` command in a directory of the test's:
//   ca.pem/.key            the CA the servers and the good client come from
//   server.pem/.key        CN "otlpd test server", serial 1001, for localhost and 127.0.0.1
//   server2.pem/.key       CN "otlpd rotated server", serial 1002, same names (rotation)
//   named.pem/.key         CN "otlpd named server", serial 1003, for "otlpd.test" only
//   client.pem/.key        CN "otlpd test client", serial 2001, clientAuth
//   other-ca.pem/.key      a CA nothing else trusts
//   other-client.pem/.key  serial 3001, signed by other-ca
//   other-server.pem/.key  serial 3002, signed by other-ca, for localhost and 127.0.0.1
// EC P-256 keys: quick to make. Valid for two days.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace otlpd::test_support {

class TestCertificates {
 public:
  // `dir` must exist. Fails when the openssl command does.
  static absl::StatusOr<TestCertificates> generate(const std::string& dir) {
    TestCertificates c(dir);
    const std::string server_ext =
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n";
    const std::string named_ext =
        "subjectAltName=DNS:otlpd.test\n"
        "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n";
    const std::string client_ext = "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n";
    if (absl::Status s = c.makeCa("ca", "otlpd test CA"); !s.ok()) return s;
    if (absl::Status s = c.makeCa("other-ca", "otlpd other CA"); !s.ok()) return s;
    struct Leaf {
      const char* name;
      const char* cn;
      const char* serial;
      const char* ca;
      const std::string& ext;
    };
    const Leaf leaves[] = {
        {"server", "otlpd test server", "0x1001", "ca", server_ext},
        {"server2", "otlpd rotated server", "0x1002", "ca", server_ext},
        {"named", "otlpd named server", "0x1003", "ca", named_ext},
        {"client", "otlpd test client", "0x2001", "ca", client_ext},
        {"other-client", "otlpd other client", "0x3001", "other-ca", client_ext},
        {"other-server", "otlpd other server", "0x3002", "other-ca", server_ext},
    };
    for (const Leaf& leaf : leaves) {
      if (absl::Status s = c.makeLeaf(leaf.name, leaf.cn, leaf.serial, leaf.ca, leaf.ext);
          !s.ok()) {
        return s;
      }
    }
    return c;
  }

  const std::string& dir() const { return dir_; }
  std::string path(std::string_view file) const { return dir_ + "/" + std::string(file); }
  std::string read(std::string_view file) const {
    std::ifstream in(path(file), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  explicit TestCertificates(std::string dir) : dir_(std::move(dir)) {}

  absl::Status run(const std::string& command) const {
    const std::string full = "cd '" + dir_ + "' && " + command + " >>openssl.log 2>&1";
    if (std::system(full.c_str()) != 0) {
      return absl::InternalError("openssl failed: " + command + " (see " + dir_ + "/openssl.log)");
    }
    return absl::OkStatus();
  }

  absl::Status makeCa(const std::string& name, const std::string& cn) const {
    return run(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
        name + ".key -out " + name + ".pem -days 2 -subj '/CN=" + cn +
        "' -addext basicConstraints=critical,CA:TRUE -addext "
        "keyUsage=critical,keyCertSign,cRLSign");
  }

  absl::Status makeLeaf(const std::string& name, const std::string& cn, const std::string& serial,
                        const std::string& ca, const std::string& ext) const {
    {
      std::ofstream out(path(name + ".ext"));
      out << ext;
    }
    if (absl::Status s = run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                             "-nodes -keyout " +
                             name + ".key -out " + name + ".csr -subj '/CN=" + cn + "'");
        !s.ok()) {
      return s;
    }
    return run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
               ".key -set_serial " + serial + " -days 2 -out " + name + ".pem -extfile " + name +
               ".ext");
  }

  std::string dir_;
};

}  // namespace otlpd::test_support
