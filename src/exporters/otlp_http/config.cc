#include "exporters/otlp_http/config.h"

#include <charconv>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/strings.h"
#include "exporters/helper/policy.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"

namespace otlpd::exporters::otlp_http {
namespace {

using pipeline::Signal;

// An error body is meant for people; a destination that sends a whole HTML page should not
// flood our logs and dead-letter headers with it.
constexpr size_t kMaxMessageBytes = 512;

bool isJson(std::string_view content_type, Encoding request_encoding) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  media = toStd(absl::StripAsciiWhitespace(toAbsl(media)));
  if (media.empty()) return request_encoding == Encoding::kJson;
  return absl::EqualsIgnoreCase(toAbsl(media), "application/json");
}

bool decode(std::string_view body, bool json, google::protobuf::Message& message) {
  if (json) return otlp::parseOtlpJson(body, message).ok();
  return message.ParseFromArray(body.data(), static_cast<int>(body.size()));
}

// The message of a google.rpc.Status body, else the body itself (shortened), since a proxy in
// front of the destination may answer with plain text.
std::string errorMessage(std::string_view body, bool json) {
  google::rpc::Status status;
  if (!body.empty() && decode(body, json, status) && !status.message().empty()) {
    return status.message().substr(0, kMaxMessageBytes);
  }
  std::string text(body.substr(0, kMaxMessageBytes));
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return std::string(toStd(absl::StripAsciiWhitespace(text)));
}

template <class Response, class Count>
void readPartialSuccess(std::string_view body, bool json, helper::SendResult& result,
                        Count rejected) {
  Response response;
  // An undecodable 2xx body still means delivered: the spec makes the body optional in
  // practice (many servers send none), and re-sending accepted data would duplicate it.
  if (body.empty() || !decode(body, json, response) || !response.has_partial_success()) return;
  result.rejected_items = rejected(response.partial_success());
  result.rejected_message = response.partial_success().error_message();
}

}  // namespace

std::string HttpUrl::origin() const {
  const bool v6 = host.find(':') != std::string::npos;
  return strCat(tls ? "https://" : "http://", v6 ? "[" : "", host, v6 ? "]" : "", ":", port);
}

absl::StatusOr<HttpUrl> parseHttpUrl(std::string_view url) {
  HttpUrl out;
  std::string_view rest = url;
  if (absl::StartsWithIgnoreCase(toAbsl(rest), "https://")) {
    out.tls = true;
    rest.remove_prefix(8);
  } else if (absl::StartsWithIgnoreCase(toAbsl(rest), "http://")) {
    rest.remove_prefix(7);
  } else {
    return absl::InvalidArgumentError(
        strCat("'", url, "' is not an http:// or https:// URL (the scheme is required)"));
  }
  const size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (const size_t hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    return absl::InvalidArgumentError(
        strCat("'", url, "': credentials in the URL are not supported, use headers"));
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(strCat("'", url, "': unterminated IPv6 address"));
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return absl::InvalidArgumentError(strCat("'", url, "': junk after the IPv6 address"));
      }
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return absl::InvalidArgumentError(strCat("'", url, "' has no host"));
  out.port = out.tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return absl::InvalidArgumentError(strCat("'", url, "': bad port '", port_text, "'"));
    }
    out.port = static_cast<uint16_t>(value);
  }
  // "http://h?x" asks for the root with a query.
  out.target = strCat(target.empty() || target.front() == '?' ? "/" : "", target);
  return out;
}

std::string_view signalPath(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return "/v1/traces";
    case Signal::kMetrics:
      return "/v1/metrics";
    case Signal::kLogs:
      return "/v1/logs";
  }
  return "/v1/traces";
}

std::string appendSignalPath(std::string_view base, Signal signal) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return strCat(base, signalPath(signal));
}

std::string resolveSignalUrl(Signal signal, std::string_view endpoint_key,
                             std::string_view signal_endpoint_key) {
  if (!signal_endpoint_key.empty()) return std::string(signal_endpoint_key);
  if (!endpoint_key.empty()) return appendSignalPath(endpoint_key, signal);
  if (auto env = helper::otlpEnv(signal, "ENDPOINT")) {
    // The per-signal variable is a full URL; the generic one is a base (OTLP exporter spec).
    return helper::otlpEnvIsSignalSpecific(signal, "ENDPOINT") ? *env
                                                               : appendSignalPath(*env, signal);
  }
  return "";
}

OtlpHttpConfig parseOtlpHttpConfig(config::ConfigNode& node, Signal signal) {
  OtlpHttpConfig c;
  // The Collector's otlphttp default; an HTTP request to a loaded backend takes longer than a
  // gRPC one to a neighbour, and the helper's retry bounds the total anyway.
  const bool timeout_set = node.has("timeout");
  c.helper = helper::parseHelperConfig(node);
  if (!timeout_set) c.helper.timeout = absl::Seconds(30);
  c.client = helper::parseOtlpClientConfig(node, signal);

  const std::string endpoint = node.getString("endpoint", "");
  // Every signal's key is read (so none is an unknown key), but only this signal's is used.
  std::string own_endpoint;
  for (Signal s : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
    const std::string key = strCat(pipeline::signalName(s), "_endpoint");
    std::string value = node.getString(key, "");
    if (s == signal) own_endpoint = std::move(value);
  }
  c.client.endpoint = resolveSignalUrl(signal, endpoint, own_endpoint);
  const std::string key_used =
      !own_endpoint.empty() ? strCat(pipeline::signalName(signal), "_endpoint") : "endpoint";
  if (c.client.endpoint.empty()) {
    node.addError("endpoint", strCat("is required (a base URL such as http://host:4318, or ",
                                     pipeline::signalName(signal), "_endpoint with the full URL)"));
  } else if (auto url = parseHttpUrl(c.client.endpoint); url.ok()) {
    c.url = *std::move(url);
  } else {
    node.addError(key_used, std::string(url.status().message()));
  }

  const std::string encoding = absl::AsciiStrToLower(node.getString("encoding", "proto"));
  if (encoding == "proto") {
    c.encoding = Encoding::kProto;
  } else if (encoding == "json") {
    c.encoding = Encoding::kJson;
  } else {
    node.addError("encoding", "must be proto or json");
  }
  c.max_idle_conns = static_cast<int>(node.getInt("max_idle_conns", c.max_idle_conns, 0, 1024));
  return c;
}

helper::SendResult classifyResponse(Signal signal, int status, std::string_view content_type,
                                    std::string_view body, std::string_view retry_after,
                                    Encoding request_encoding, absl::Time now) {
  helper::SendResult result;
  const bool json = isJson(content_type, request_encoding);
  if (status >= 200 && status < 300) {
    switch (signal) {
      case Signal::kTraces:
        readPartialSuccess<otlp::TracesResponse>(body, json, result,
                                                 [](const auto& p) { return p.rejected_spans(); });
        break;
      case Signal::kMetrics:
        readPartialSuccess<otlp::MetricsResponse>(
            body, json, result, [](const auto& p) { return p.rejected_data_points(); });
        break;
      case Signal::kLogs:
        readPartialSuccess<otlp::LogsResponse>(
            body, json, result, [](const auto& p) { return p.rejected_log_records(); });
        break;
    }
    return result;
  }
  std::string message = strCat("HTTP ", status);
  if (std::string detail = errorMessage(body, json); !detail.empty()) {
    strAppend(&message, ": ", detail);
  }
  // 429/502/503/504 are the spec's retryable answers. Other 5xx are retried too (a deviation):
  // they are the server's fault, not the data's, and max_elapsed_time plus the dead-letter queue
  // bound what retrying costs, whereas dropping them loses data a restart would have taken.
  // 401 too (a deviation, as for gRPC UNAUTHENTICATED): refused credentials are fixed by
  // rotating them, not by changing the data.
  const bool retryable = status == 429 || status >= 500 || status == 401;
  if (retryable) {
    if (!retry_after.empty()) result.retry_after = helper::parseRetryAfter(retry_after, now);
    result.status = absl::UnavailableError(message);
  } else {
    result.status = absl::InvalidArgumentError(message);
  }
  return result;
}

}  // namespace otlpd::exporters::otlp_http
