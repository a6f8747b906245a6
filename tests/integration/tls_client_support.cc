#include "tls_client_support.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fstream>
#include <sstream>

#include "common/endpoint.h"
#include "common/strings.h"

namespace otlpd::integration {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string serialOf(X509* cert) {
  if (cert == nullptr) return "";
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out = hex;
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::string subjectOf(X509* cert) {
  if (cert == nullptr) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

}  // namespace

struct TlsConnection::Impl {
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
  std::string host;
  std::chrono::milliseconds timeout{10000};
  bool open = false;
};

TlsConnection::TlsConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsConnection::~TlsConnection() = default;

absl::StatusOr<std::unique_ptr<TlsConnection>> TlsConnection::open(
    const std::string& endpoint, const TlsClientOptions& options) {
  auto hp = common::HostPort::parse(endpoint);
  if (!hp.ok()) return hp.status();
  auto impl = std::make_unique<Impl>();
  impl->timeout = options.timeout;
  impl->host = endpoint;
  SSL_CTX* ctx = impl->ctx.native_handle();
  if (options.min_version != 0) SSL_CTX_set_min_proto_version(ctx, options.min_version);
  if (options.max_version != 0) SSL_CTX_set_max_proto_version(ctx, options.max_version);
  if (!options.cipher_list.empty() &&
      SSL_CTX_set_cipher_list(ctx, options.cipher_list.c_str()) != 1) {
    return absl::InvalidArgumentError("bad cipher list " + options.cipher_list);
  }
  beast::error_code ec;
  if (!options.ca_file.empty()) {
    impl->ctx.load_verify_file(options.ca_file, ec);
    if (ec) return absl::InvalidArgumentError("ca_file: " + ec.message());
    impl->ctx.set_verify_mode(ssl::verify_peer);
  } else {
    impl->ctx.set_verify_mode(ssl::verify_none);
  }
  if (!options.cert_file.empty()) {
    impl->ctx.use_certificate_chain_file(options.cert_file, ec);
    if (!ec) impl->ctx.use_private_key_file(options.key_file, ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError("client certificate: " + ec.message());
  }
  if (!options.alpn.empty()) {
    std::string wire(1, static_cast<char>(options.alpn.size()));
    wire += options.alpn;
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  impl->stream.emplace(impl->ioc, impl->ctx);
  const std::string name = options.server_name.empty() ? hp->host : options.server_name;
  SSL* ssl_handle = impl->stream->native_handle();
  beast::error_code addr_ec;
  asio::ip::make_address(name, addr_ec);
  if (addr_ec) SSL_set_tlsext_host_name(ssl_handle, name.c_str());  // SNI is for names only
  if (!options.ca_file.empty())
    impl->stream->set_verify_callback(ssl::host_name_verification(name));

  const auto address = asio::ip::make_address(hp->host, ec);
  if (ec) return absl::InvalidArgumentError("bad address " + hp->host);
  auto& transport = beast::get_lowest_layer(*impl->stream);
  transport.expires_after(options.timeout);
  transport.async_connect(tcp::endpoint(address, hp->port), [&ec](beast::error_code e) { ec = e; });
  impl->ioc.run();
  if (ec) return absl::UnavailableError("connect " + endpoint + ": " + ec.message());
  impl->ioc.restart();
  transport.expires_after(options.timeout);
  impl->stream->async_handshake(ssl::stream_base::client, [&ec](beast::error_code e) { ec = e; });
  impl->ioc.run();
  if (ec) {
    return absl::UnavailableError("TLS handshake with " + endpoint + ": " + ec.message());
  }
  impl->open = true;
  return std::unique_ptr<TlsConnection>(new TlsConnection(std::move(impl)));
}

absl::StatusOr<HttpResult> TlsConnection::request(std::string_view method, std::string_view target,
                                                  const HeaderList& headers, std::string body) {
  Impl& c = *impl_;
  if (!c.open) return absl::FailedPreconditionError("connection already closed");
  http::request<http::string_body> req;
  req.version(11);
  req.method_string(method);
  req.target(target);
  req.set(http::field::host, c.host);
  for (const auto& [name, value] : headers) req.insert(name, value);
  req.body() = std::move(body);
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  beast::error_code write_ec, read_ec;
  c.ioc.restart();
  beast::get_lowest_layer(*c.stream).expires_after(c.timeout);
  http::async_write(*c.stream, req, [&](beast::error_code ec, size_t) { write_ec = ec; });
  http::async_read(*c.stream, c.buffer, parser,
                   [&](beast::error_code ec, size_t) { read_ec = ec; });
  c.ioc.run();
  if (write_ec || read_ec) {
    c.open = false;
    return absl::UnavailableError(
        strCat("request ", method, " ", target, ": ", (read_ec ? read_ec : write_ec).message()));
  }
  http::response<http::string_body> res = parser.release();
  HttpResult out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res)
    out.headers[lower(field.name_string())] = std::string(field.value());
  out.body = std::move(res.body());
  out.keep_alive = res.keep_alive();
  if (!out.keep_alive) c.open = false;
  return out;
}

std::string TlsConnection::peerSerial() const {
  X509* cert = SSL_get1_peer_certificate(impl_->stream->native_handle());
  std::string out = serialOf(cert);
  X509_free(cert);
  return out;
}

std::string TlsConnection::peerSubject() const {
  X509* cert = SSL_get1_peer_certificate(impl_->stream->native_handle());
  std::string out = subjectOf(cert);
  X509_free(cert);
  return out;
}

std::string TlsConnection::version() const {
  return SSL_get_version(impl_->stream->native_handle());
}

std::string TlsConnection::cipher() const {
  return SSL_get_cipher_name(impl_->stream->native_handle());
}

std::string TlsConnection::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(impl_->stream->native_handle(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

absl::Status tlsHandshake(const std::string& endpoint, const TlsClientOptions& options) {
  auto c = TlsConnection::open(endpoint, options);
  return c.ok() ? absl::OkStatus() : c.status();
}

std::shared_ptr<grpc::Channel> tlsChannel(const std::string& endpoint,
                                          const TlsClientOptions& options) {
  grpc::SslCredentialsOptions creds;
  if (!options.ca_file.empty()) creds.pem_root_certs = readFile(options.ca_file);
  if (!options.cert_file.empty()) {
    creds.pem_cert_chain = readFile(options.cert_file);
    creds.pem_private_key = readFile(options.key_file);
  }
  grpc::ChannelArguments args;
  if (!options.server_name.empty()) args.SetSslTargetNameOverride(options.server_name);
  // Each test's channel is its own connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(endpoint, grpc::SslCredentials(creds), args);
}

std::string pemSerial(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  std::string out = serialOf(cert);
  X509_free(cert);
  BIO_free(bio);
  return out;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace otlpd::integration
