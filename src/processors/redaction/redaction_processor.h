#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::processors::redaction {

// The Collector's redaction processor: `allow_all_keys`, `allowed_keys`, `ignored_keys`,
// `ignored_key_patterns`, `blocked_key_patterns`, `blocked_values`, `allowed_values`,
// `redact_all_types`, `hash_function` (md5, sha1, sha3) and `summary` (debug | info | silent), on
// span, span event, log record and data point attributes and on log bodies. Regexes are RE2 (the
// syntax of Go's regexp), each list tested in one pass per value.
std::unique_ptr<pipeline::ProcessorFactory> makeRedactionFactory();

}  // namespace otlpd::processors::redaction
