#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::extensions::basicauth {

// The Collector's basicauth extension. With `htpasswd` (file and/or inline) it is a server
// authenticator: HTTP Basic credentials checked against htpasswd entries (bcrypt through the
// system's crypt); the user is the client's `auth.username` and `auth.subject`. With
// `client_auth` (username, password) it is a client authenticator. One instance is one or the
// other, as in the Collector.
std::unique_ptr<pipeline::ExtensionFactory> makeBasicAuthFactory();

}  // namespace otlpd::extensions::basicauth
