// A scrape target for tests on 127.0.0.1: blocking sockets, a thread per connection, keep-alive,
// optionally TLS (a self-signed certificate for 127.0.0.1 made on the spot). The handler writes
// raw bytes, so a test can answer well, badly, slowly or endlessly. Header-only (unit tests are
// globbed *_test.cc).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace otlpd::receivers::prometheus::testing {

struct TargetRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
};

class TargetConnection {
 public:
  // False once the client has gone (or the server stops).
  virtual bool send(std::string_view bytes) = 0;
  virtual bool stopping() const = 0;
  virtual ~TargetConnection() = default;

  // A whole response with Content-Length; `extra` are more header lines ("Name: value\r\n").
  bool respond(int status, std::string_view content_type, std::string_view body,
               std::string_view extra = {});
};

using TargetHandler = std::function<void(const TargetRequest&, TargetConnection&)>;

// A PEM certificate and key for 127.0.0.1 (self-signed), written to `dir`.
struct TestCertificate {
  std::string cert_file;
  std::string key_file;
};
inline TestCertificate makeTestCertificate(const std::string& dir);

class TestTargetServer {
 public:
  // Plaintext, or TLS with `cert` when given.
  explicit TestTargetServer(TargetHandler handler, const TestCertificate* cert = nullptr);
  ~TestTargetServer();

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }
  int connections() {
    std::lock_guard lock(mu_);
    return static_cast<int>(fds_.size());
  }
  // Bytes the handlers managed to send, over all connections.
  size_t bytesSent() const { return bytes_sent_.load(); }

 private:
  void acceptLoop();
  void serve(int fd);

  TargetHandler handler_;
  SSL_CTX* ssl_ctx_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::atomic<size_t> bytes_sent_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> connections_;
  std::vector<int> fds_;
};

inline bool TargetConnection::respond(int status, std::string_view content_type,
                                      std::string_view body, std::string_view extra) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
                     "\r\nContent-Type: " + std::string(content_type) +
                     "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                     std::string(extra) + "\r\n";
  return send(head) && send(body);
}

inline TestCertificate makeTestCertificate(const std::string& dir) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
  X509_add_ext(x, san, -1);
  X509_EXTENSION_free(san);
  X509_EXTENSION* bc =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
  X509_add_ext(x, bc, -1);
  X509_EXTENSION_free(bc);
  X509_sign(x, key, EVP_sha256());
  TestCertificate out{dir + "/cert.pem", dir + "/key.pem"};
  FILE* f = std::fopen(out.cert_file.c_str(), "w");
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(out.key_file.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

namespace detail {

class PlainConnection : public TargetConnection {
 public:
  PlainConnection(int fd, const std::atomic<bool>& stopping, std::atomic<size_t>& sent)
      : fd_(fd), stopping_(stopping), sent_(sent) {}
  bool send(std::string_view bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent_ += static_cast<size_t>(n);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  bool stopping() const override { return stopping_.load(); }
  virtual ssize_t read(char* buf, size_t n) { return ::recv(fd_, buf, n, 0); }

 protected:
  int fd_;
  const std::atomic<bool>& stopping_;
  std::atomic<size_t>& sent_;
};

class TlsConnection : public PlainConnection {
 public:
  TlsConnection(int fd, SSL* ssl, const std::atomic<bool>& stopping, std::atomic<size_t>& sent)
      : PlainConnection(fd, stopping, sent), ssl_(ssl) {}
  ~TlsConnection() override { SSL_free(ssl_); }
  bool send(std::string_view bytes) override {
    while (!bytes.empty()) {
      const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (n <= 0) return false;
      sent_ += static_cast<size_t>(n);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  ssize_t read(char* buf, size_t n) override { return SSL_read(ssl_, buf, static_cast<int>(n)); }

 private:
  SSL* ssl_;
};

}  // namespace detail

inline TestTargetServer::TestTargetServer(TargetHandler handler, const TestCertificate* cert)
    : handler_(std::move(handler)) {
  // SSL_write to a client that hung up raises SIGPIPE (plain sends use MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
  if (cert != nullptr) {
    ssl_ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_file(ssl_ctx_, cert->cert_file.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ssl_ctx_, cert->key_file.c_str(), SSL_FILETYPE_PEM);
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("test target server: cannot listen");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { acceptLoop(); });
}

inline TestTargetServer::~TestTargetServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (std::thread& t : connections_) t.join();
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
}

inline void TestTargetServer::acceptLoop() {
  for (;;) {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    if (stopping_) {
      ::close(fd);
      return;
    }
    std::lock_guard lock(mu_);
    fds_.push_back(fd);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

inline void TestTargetServer::serve(int fd) {
  std::unique_ptr<detail::PlainConnection> conn;
  if (ssl_ctx_ != nullptr) {
    SSL* ssl = SSL_new(ssl_ctx_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) <= 0) {
      SSL_free(ssl);
      ::close(fd);
      return;
    }
    conn = std::make_unique<detail::TlsConnection>(fd, ssl, stopping_, bytes_sent_);
  } else {
    conn = std::make_unique<detail::PlainConnection>(fd, stopping_, bytes_sent_);
  }
  std::string buffer;
  char chunk[4096];
  while (!stopping_) {
    size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = conn->read(chunk, sizeof chunk);
      if (n <= 0) {
        conn.reset();
        ::close(fd);
        return;
      }
      buffer.append(chunk, static_cast<size_t>(n));
    }
    TargetRequest request;
    const std::string head = buffer.substr(0, end);
    buffer.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    const std::string first = head.substr(0, line_end);
    const size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
    request.method = first.substr(0, sp1);
    request.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    while (line_end != std::string::npos && line_end < head.size()) {
      const size_t next = head.find("\r\n", line_end + 2);
      const std::string line = head.substr(
          line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t v = colon + 1;
        while (v < line.size() && line[v] == ' ') ++v;
        request.headers[name] = line.substr(v);
      }
      line_end = next;
    }
    ++requests_;
    handler_(request, *conn);
  }
  conn.reset();
  ::close(fd);
}

}  // namespace otlpd::receivers::prometheus::testing
