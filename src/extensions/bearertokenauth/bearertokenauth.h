#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::extensions::bearertokenauth {

// The Collector's bearertokenauth extension: a server authenticator that accepts requests whose
// Authorization header (or `header`) is `<scheme> <token>` for a configured token, compared in
// constant time, and a client authenticator that sends the first token. Tokens come from `token`,
// `tokens` (each optionally named: the name is the client's `auth.subject`) or `filename`, which
// is re-read when the file changes.
std::unique_ptr<pipeline::ExtensionFactory> makeBearerTokenAuthFactory();

}  // namespace otlpd::extensions::bearertokenauth
