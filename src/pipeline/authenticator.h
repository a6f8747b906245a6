// Authenticators, as the OpenTelemetry Collector has them: extensions (bearertokenauth, basicauth)
// that receivers and the query API ask whether a request's credentials are good (server side),
// and that exporters ask for the credentials to send (client side). A component names one with
// `auth: { authenticator: <extension id> }`; the graph binds the reference when it is built
// (pipeline/extension_directory.h), so `otlpd validate` reports a reference to nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "config/config_node.h"
#include "pipeline/component.h"

namespace otlpd::pipeline {

// What an authenticator learned about a client: ("subject", "alice"), ("username", "alice")...
// Processors read them as `auth.<name>` (the attributes processor's from_context).
using AuthAttributes = std::vector<std::pair<std::string, std::string>>;

// The first value of a request header (HTTP) or metadata key (gRPC); `name` is lower-case.
using HeaderLookup = absl::FunctionRef<std::optional<std::string_view>(std::string_view name)>;

class ServerAuthenticator {
 public:
  virtual ~ServerAuthenticator() = default;
  // The client's attributes when its credentials are good; kUnauthenticated otherwise (the message
  // is for our logs only: a client is never told why).
  virtual absl::StatusOr<AuthAttributes> authenticate(HeaderLookup headers) const = 0;
  // The lower-case header that carries the credentials (kept out of request metadata).
  virtual std::string_view credentialsHeader() const { return "authorization"; }
  // The WWW-Authenticate value of an HTTP 401, e.g. `Basic realm="otlpd"`.
  virtual std::string challenge() const = 0;
};

class ClientAuthenticator {
 public:
  virtual ~ClientAuthenticator() = default;
  // Headers (lower-case names) to add to a request; asked for each request, since credentials
  // can change while running (a token file rewritten).
  virtual std::vector<std::pair<std::string, std::string>> requestHeaders() const = 0;
};

// A component's reference to an authenticator: the id it named, and the authenticator once the
// graph has bound it (before any component starts). Null until then, e.g. in unit tests that
// create a component without a graph; components refuse to start unbound.
template <class Authenticator>
struct AuthenticatorRef {
  ComponentId id;
  std::shared_ptr<Authenticator> authenticator;
};
using ServerAuthRef = std::shared_ptr<AuthenticatorRef<ServerAuthenticator>>;
using ClientAuthRef = std::shared_ptr<AuthenticatorRef<ClientAuthenticator>>;

// Reads `auth: { authenticator: <id> }` under `parent` and asks the graph for it; null when
// there is no `auth` key. Errors (a bad id, an unknown key) go to the node with their paths.
ServerAuthRef readServerAuthenticator(config::ConfigNode& parent, const CreateSettings& settings);
ClientAuthRef readClientAuthenticator(config::ConfigNode& parent, const CreateSettings& settings);

}  // namespace otlpd::pipeline
