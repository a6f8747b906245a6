#include "otlpd_process_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "common/strings.h"

#ifndef OTLPD_BINARY
#error "OTLPD_BINARY must name the otlpd binary under test"
#endif

namespace otlpd::integration {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Polling interval for things the child does on its own schedule (ready file, exit, counters).
constexpr std::chrono::milliseconds kPollInterval{10};
// Responses we read can be large (a /metrics page), but never this large.
constexpr uint64_t kMaxResponseBody = 64u << 20;

std::string lower(std::string_view s) {
  std::string out(s);
  absl::AsciiStrToLower(&out);
  return out;
}

std::string readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status writeWholeFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) return absl::InternalError(strCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::string> makeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ =
      strCat(base != nullptr && *base != '\0' ? base : "/tmp", "/otlpd-integ-XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(strCat("mkdtemp ", templ, ": ", std::strerror(errno)));
  }
  return templ;
}

ExitStatus decodeWaitStatus(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.exited = true;
    s.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  }
  return s;
}

// OTLPD_TEST_BINARY lets the same tests run against another build (an installed or a
// deliberately broken one) without recompiling them.
std::string binaryUnderTest() {
  const char* env = std::getenv("OTLPD_TEST_BINARY");
  return env != nullptr && *env != '\0' ? env : OTLPD_BINARY;
}

// fork/exec of the binary under test with stdout and stderr redirected to files. Everything the
// child needs is prepared before fork: the parent has threads (gRPC, Asio), so the child may only
// make async-signal-safe calls until exec.
absl::StatusOr<pid_t> spawn(const std::vector<std::string>& args, const std::string& out_path,
                            const std::string& err_path) {
  std::vector<std::string> argv_storage;
  argv_storage.emplace_back(binaryUnderTest());
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto close_all = [&] {
    for (int fd : {null_fd, out_fd, err_fd}) {
      if (fd >= 0) ::close(fd);
    }
  };
  if (null_fd < 0 || out_fd < 0 || err_fd < 0) {
    const int saved = errno;
    close_all();
    return absl::InternalError(strCat("cannot open child stdio files: ", std::strerror(saved)));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int saved = errno;
    close_all();
    return absl::InternalError(strCat("fork: ", std::strerror(saved)));
  }
  if (pid == 0) {
    // A crashed or killed test binary must not leave otlpd running and holding ports.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    // Sockets of the test process (gRPC channels, listeners) must not live on in the child.
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  close_all();
  return pid;
}

// Waits for `pid` up to `timeout`; nullopt if it is still running.
std::optional<ExitStatus> waitFor(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return decodeWaitStatus(status);
    if (r < 0 && errno != EINTR) {
      ExitStatus lost;
      lost.code = -1;
      return lost;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
}

// SIGTERM, bounded wait, then SIGKILL; only ever signals the child we started.
ExitStatus terminate(pid_t pid, std::chrono::milliseconds grace) {
  ::kill(pid, SIGTERM);
  if (auto s = waitFor(pid, grace)) return *s;
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ExitStatus s = decodeWaitStatus(status);
  s.forced = true;
  return s;
}

std::pair<std::string, uint16_t> splitEndpoint(const std::string& endpoint) {
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos) return {endpoint, 0};
  std::string host = endpoint.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return {host, static_cast<uint16_t>(std::atoi(endpoint.c_str() + colon + 1))};
}

// Reads a JSON string starting at json[pos] == '"'; advances pos past the closing quote.
std::optional<std::string> parseJsonString(std::string_view json, size_t& pos) {
  if (pos >= json.size() || json[pos] != '"') return std::nullopt;
  std::string out;
  for (++pos; pos < json.size(); ++pos) {
    const char c = json[pos];
    if (c == '"') {
      ++pos;
      return out;
    }
    if (c == '\\') {
      if (++pos >= json.size()) return std::nullopt;
      switch (json[pos]) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        default:
          // Addresses never need \u escapes; the escaped character itself is what we keep.
          out.push_back(json[pos]);
      }
      continue;
    }
    out.push_back(c);
  }
  return std::nullopt;
}

void skipSpace(std::string_view s, size_t& pos) {
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\n' || s[pos] == '\r' || s[pos] == '\t')) {
    ++pos;
  }
}

}  // namespace

bool containsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return contains(lower(haystack), lower(needle));
}

std::string HttpResult::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

bool HttpResult::hasHeader(std::string_view name) const {
  return headers.count(lower(name)) != 0;
}

struct HttpConnection::Impl {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  std::string host;
  std::chrono::milliseconds timeout{kDefaultIoTimeout};
  bool open = false;
};

HttpConnection::HttpConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpConnection::~HttpConnection() {
  beast::error_code ignored;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  impl_->stream.close();
}

absl::StatusOr<std::unique_ptr<HttpConnection>> HttpConnection::open(
    const std::string& endpoint, std::chrono::milliseconds timeout) {
  auto [host, port] = splitEndpoint(endpoint);
  if (port == 0) return absl::InvalidArgumentError(strCat("no port in endpoint '", endpoint, "'"));
  auto impl = std::make_unique<Impl>();
  impl->timeout = timeout;
  impl->host = endpoint;
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(strCat("bad address '", host, "': ", ec.message()));
  impl->stream.expires_after(timeout);
  impl->stream.async_connect(tcp::endpoint(address, port), [&ec](beast::error_code e) { ec = e; });
  impl->ioc.run();
  if (ec) return absl::UnavailableError(strCat("connect ", endpoint, ": ", ec.message()));
  impl->open = true;
  return std::unique_ptr<HttpConnection>(new HttpConnection(std::move(impl)));
}

absl::StatusOr<HttpResult> HttpConnection::request(std::string_view method, std::string_view target,
                                                   const HeaderList& headers, std::string body) {
  Impl& c = *impl_;
  if (!c.open) return absl::FailedPreconditionError("connection already closed");

  http::request<http::string_body> req;
  req.version(11);
  req.method_string(method);
  req.target(target);
  req.set(http::field::host, c.host);
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    if (lower(name) == "content-length") has_length = true;
    req.insert(name, value);
  }
  req.body() = std::move(body);
  if (!has_length) req.prepare_payload();

  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  if (lower(method) == "head") parser.skip(true);

  bool write_done = false, read_done = false;
  beast::error_code write_ec, read_ec;
  c.ioc.restart();
  c.stream.expires_after(c.timeout);
  http::async_write(c.stream, req, [&](beast::error_code ec, size_t) {
    write_done = true;
    write_ec = ec;
  });
  http::async_read(c.stream, c.buffer, parser, [&](beast::error_code ec, size_t) {
    read_done = true;
    read_ec = ec;
    // An early answer (413 before the body was taken) ends the exchange; the rest of the body
    // has nowhere to go.
    if (!write_done) c.stream.socket().cancel();
  });
  c.ioc.run();

  if (read_ec || !read_done) {
    c.open = false;
    return absl::UnavailableError(
        strCat("reading the response to ", method, " ", target, ": ", read_ec.message(),
               write_ec ? strCat(" (write: ", write_ec.message(), ")") : std::string()));
  }
  http::response<http::string_body> res = parser.release();
  HttpResult out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res)
    out.headers[lower(field.name_string())] = std::string(field.value());
  out.body = std::move(res.body());
  out.keep_alive = res.keep_alive() && !write_ec;
  if (!out.keep_alive) c.open = false;
  return out;
}

absl::StatusOr<HttpResult> httpRequest(const std::string& endpoint, std::string_view method,
                                       std::string_view target, const HeaderList& headers,
                                       std::string body) {
  auto conn = HttpConnection::open(endpoint);
  if (!conn.ok()) return conn.status();
  return (*conn)->request(method, target, headers, std::move(body));
}

std::optional<double> findPrometheusSample(std::string_view exposition, std::string_view name,
                                           const LabelMap& labels) {
  std::istringstream in{std::string(exposition)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t pos = line.find_first_of("{ ");
    if (pos == std::string::npos || std::string_view(line).substr(0, pos) != name) continue;
    LabelMap found;
    if (line[pos] == '{') {
      ++pos;
      bool ok = true;
      while (pos < line.size() && line[pos] != '}') {
        const size_t eq = line.find('=', pos);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          ok = false;
          break;
        }
        std::string key = line.substr(pos, eq - pos);
        std::string value;
        size_t i = eq + 2;
        for (; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\' && i + 1 < line.size()) {
            ++i;
            value.push_back(line[i] == 'n' ? '\n' : line[i]);
          } else {
            value.push_back(line[i]);
          }
        }
        if (i >= line.size()) {
          ok = false;
          break;
        }
        found[key] = value;
        pos = i + 1;
        if (pos < line.size() && line[pos] == ',') ++pos;
      }
      if (!ok || pos >= line.size()) continue;
      ++pos;  // '}'
    }
    if (found != labels) continue;
    skipSpace(line, pos);
    const std::string value = line.substr(pos, line.find(' ', pos) - pos);
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str()) continue;
    return v;
  }
  return std::nullopt;
}

absl::StatusOr<std::map<std::string, std::string>> parseReadyFile(std::string_view json) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  skipSpace(json, pos);
  if (pos >= json.size() || json[pos] != '{') return absl::InvalidArgumentError("not an object");
  ++pos;
  skipSpace(json, pos);
  if (pos < json.size() && json[pos] == '}') return out;
  for (;;) {
    skipSpace(json, pos);
    auto key = parseJsonString(json, pos);
    skipSpace(json, pos);
    if (!key || pos >= json.size() || json[pos] != ':') {
      return absl::InvalidArgumentError(strCat("expected \"key\": at offset ", pos));
    }
    ++pos;
    skipSpace(json, pos);
    auto value = parseJsonString(json, pos);
    if (!value) return absl::InvalidArgumentError(strCat("expected a string at offset ", pos));
    out[*key] = *value;
    skipSpace(json, pos);
    if (pos < json.size() && json[pos] == ',') {
      ++pos;
      continue;
    }
    if (pos < json.size() && json[pos] == '}') return out;
    return absl::InvalidArgumentError(strCat("expected , or } at offset ", pos));
  }
}

std::string ExitStatus::toString() const {
  std::string s = exited ? strCat("exit code ", code) : strCat("killed by signal ", signal);
  if (forced) s += " (SIGTERM was ignored; SIGKILL sent)";
  return s;
}

absl::StatusOr<CommandResult> runOtlpd(const std::vector<std::string>& args,
                                       std::chrono::milliseconds timeout) {
  auto dir = makeTempDir();
  if (!dir.ok()) return dir.status();
  const std::string out_path = *dir + "/stdout", err_path = *dir + "/stderr";
  auto pid = spawn(args, out_path, err_path);
  if (!pid.ok()) return pid.status();
  CommandResult result;
  if (auto s = waitFor(*pid, timeout)) {
    result.status = *s;
  } else {
    result.status = terminate(*pid, std::chrono::seconds(1));
    result.status.forced = true;
  }
  result.out = readWholeFile(out_path);
  result.err = readWholeFile(err_path);
  std::error_code ignored;
  std::filesystem::remove_all(*dir, ignored);
  return result;
}

std::string OtlpdProcess::standardConfig(std::string_view http_extra) {
  return strCat(R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", max_recv_msg_size_mib: 4 }
      http: { endpoint: "127.0.0.1:0", max_request_body_size: 4194304)",
                http_extra.empty() ? "" : ", ", http_extra, R"( }
exporters:
  file/traces: { path: "@DIR@/traces.jsonl" }
  file/metrics: { path: "@DIR@/metrics.jsonl" }
  file/logs: { path: "@DIR@/logs.jsonl" }
extensions:
  health_check: { endpoint: "127.0.0.1:0" }
service:
  extensions: [health_check]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [file/traces] }
    metrics: { receivers: [otlp], exporters: [file/metrics] }
    logs: { receivers: [otlp], exporters: [file/logs] }
)");
}

absl::StatusOr<std::unique_ptr<OtlpdProcess>> OtlpdProcess::start(
    std::string_view config_yaml, std::chrono::milliseconds ready_timeout) {
  std::unique_ptr<OtlpdProcess> p(new OtlpdProcess());
  auto dir = makeTempDir();
  if (!dir.ok()) return dir.status();
  p->dir_ = *dir;

  std::string config(config_yaml);
  for (size_t at = config.find("@DIR@"); at != std::string::npos; at = config.find("@DIR@", at)) {
    config.replace(at, 5, p->dir_);
    at += p->dir_.size();
  }
  const std::string config_path = p->path("config.yaml");
  const std::string ready_path = p->path("ready.json");
  if (absl::Status s = writeWholeFile(config_path, config); !s.ok()) return s;

  auto pid = spawn({"serve", "--config", config_path, "--ready-file", ready_path},
                   p->path("stdout.log"), p->path("stderr.log"));
  if (!pid.ok()) return pid.status();
  p->pid_ = *pid;

  const auto deadline = Clock::now() + ready_timeout;
  for (;;) {
    // The ready file appears by rename, so once it exists it is complete.
    if (std::filesystem::exists(ready_path)) {
      auto endpoints = parseReadyFile(readWholeFile(ready_path));
      if (!endpoints.ok()) {
        return absl::InternalError(strCat("unreadable ready file: ", endpoints.status().message()));
      }
      p->endpoints_ = *std::move(endpoints);
      return p;
    }
    if (!p->running()) {
      return absl::InternalError(strCat("otlpd exited before it was ready (", p->exit_->toString(),
                                        "); stderr:\n", p->stderrContents()));
    }
    if (Clock::now() >= deadline) {
      return absl::DeadlineExceededError(strCat("otlpd wrote no ready file within ",
                                                ready_timeout.count(), " ms; stderr:\n",
                                                p->stderrContents()));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

OtlpdProcess::~OtlpdProcess() {
  if (pid_ > 0) stop();
  if (!dir_.empty() && std::getenv("OTLPD_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string OtlpdProcess::path(std::string_view file) const {
  return strCat(dir_, "/", file);
}

std::string OtlpdProcess::endpoint(std::string_view key) const {
  auto it = endpoints_.find(std::string(key));
  return it == endpoints_.end() ? std::string() : it->second;
}

absl::StatusOr<std::string> OtlpdProcess::scrape() const {
  const std::string ep = metricsEndpoint();
  if (ep.empty()) return absl::NotFoundError("no telemetry.metrics endpoint in the ready file");
  auto res = httpRequest(ep, "GET", "/metrics");
  if (!res.ok()) return res.status();
  if (res->status != 200) {
    return absl::UnavailableError(strCat("GET /metrics answered ", res->status, ": ", res->body));
  }
  return std::move(res->body);
}

absl::StatusOr<double> OtlpdProcess::scrapeMetric(std::string_view name,
                                                  const LabelMap& labels) const {
  auto text = scrape();
  if (!text.ok()) return text.status();
  auto v = findPrometheusSample(*text, name, labels);
  if (!v) {
    std::string rendered;
    for (const auto& [k, val] : labels)
      strAppend(&rendered, rendered.empty() ? "" : ",", k, "=", val);
    return absl::NotFoundError(strCat("no sample ", name, "{", rendered, "} in /metrics"));
  }
  return *v;
}

absl::StatusOr<double> OtlpdProcess::waitForMetric(std::string_view name, const LabelMap& labels,
                                                   double expected,
                                                   std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto v = scrapeMetric(name, labels);
    if ((v.ok() && *v == expected) || Clock::now() >= deadline) return v;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::vector<std::string> OtlpdProcess::readJsonLines(std::string_view file) const {
  std::vector<std::string> lines;
  std::istringstream in(readWholeFile(path(file)));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> OtlpdProcess::waitForJsonLines(std::string_view file, size_t count,
                                                        std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::vector<std::string> lines = readJsonLines(file);
    if (lines.size() >= count || Clock::now() >= deadline) return lines;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string OtlpdProcess::stdoutContents() const {
  return readWholeFile(path("stdout.log"));
}
std::string OtlpdProcess::stderrContents() const {
  return readWholeFile(path("stderr.log"));
}

bool OtlpdProcess::running() {
  if (exit_) return false;
  if (pid_ <= 0) return false;
  if (auto s = waitFor(pid_, std::chrono::milliseconds(0))) {
    exit_ = *s;
    return false;
  }
  return true;
}

ExitStatus OtlpdProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) {
    if (!exit_) exit_ = ExitStatus{};
    return *exit_;
  }
  exit_ = terminate(pid_, grace);
  return *exit_;
}

std::string ReceiverCounters::toString() const {
  return strCat("spans{accepted=", accepted_spans, " refused=", refused_spans,
                " invalid=", invalid_spans, "} points{accepted=", accepted_points,
                " refused=", refused_points, " invalid=", invalid_points,
                "} logs{accepted=", accepted_logs, " refused=", refused_logs,
                " invalid=", invalid_logs, "} malformed=", malformed);
}

void PrintTo(const ReceiverCounters& c, std::ostream* os) {
  *os << c.toString();
}

absl::StatusOr<ReceiverCounters> readReceiverCounters(const OtlpdProcess& process,
                                                      std::string_view transport) {
  auto text = process.scrape();
  if (!text.ok()) return text.status();
  const LabelMap labels = {{"receiver", "otlp"}, {"transport", std::string(transport)}};
  ReceiverCounters c;
  const std::pair<const char*, double*> series[] = {
      {"otlpd_receiver_accepted_spans_total", &c.accepted_spans},
      {"otlpd_receiver_refused_spans_total", &c.refused_spans},
      {"otlpd_receiver_invalid_spans_total", &c.invalid_spans},
      {"otlpd_receiver_accepted_metric_points_total", &c.accepted_points},
      {"otlpd_receiver_refused_metric_points_total", &c.refused_points},
      {"otlpd_receiver_invalid_metric_points_total", &c.invalid_points},
      {"otlpd_receiver_accepted_log_records_total", &c.accepted_logs},
      {"otlpd_receiver_refused_log_records_total", &c.refused_logs},
      {"otlpd_receiver_invalid_log_records_total", &c.invalid_logs},
      {"otlpd_receiver_malformed_requests_total", &c.malformed},
  };
  for (const auto& [name, out] : series) {
    auto v = findPrometheusSample(*text, name, labels);
    if (!v) {
      return absl::NotFoundError(strCat("no sample ", name, "{receiver=\"otlp\",transport=\"",
                                        transport, "\"} in /metrics"));
    }
    *out = *v;
  }
  return c;
}

absl::StatusOr<ReceiverCounters> waitForReceiverCounters(const OtlpdProcess& process,
                                                         std::string_view transport,
                                                         const ReceiverCounters& expected,
                                                         std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto c = readReceiverCounters(process, transport);
    if ((c.ok() && *c == expected) || Clock::now() >= deadline) return c;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string OtlpdProcess::standardConfigListeningOn(std::string_view protocol,
                                                    std::string_view endpoint) {
  std::string config = standardConfig();
  const std::string listen_any = strCat(protocol, ": { endpoint: \"127.0.0.1:0\"");
  const size_t at = config.find(listen_any);
  EXPECT_NE(at, std::string::npos) << "standardConfig() has no " << protocol << " listener";
  if (at != std::string::npos) {
    config.replace(at, listen_any.size(), strCat(protocol, ": { endpoint: \"", endpoint, "\""));
  }
  return config;
}

int freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace otlpd::integration
