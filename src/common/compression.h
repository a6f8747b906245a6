#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace otlpd::common {

enum class Compression { kNone, kGzip, kDeflate, kZstd };

// Parses an HTTP Content-Encoding value (case-insensitive, surrounding whitespace ignored;
// "" and "identity" mean kNone). Returns nullopt for encodings we cannot decode, so the
// caller can answer 415 instead of handing garbage to a decoder.
std::optional<Compression> parseContentEncoding(std::string_view value);

// "none", "gzip", "deflate", "zstd".
std::string_view compressionName(Compression c);

// Decompresses `input` into `out` (cleared first; its capacity is reused when large enough).
//
// The body comes from the network, so the output is bounded by what is actually produced,
// never by sizes the stream declares: at most max_output_bytes + 1 bytes are ever written,
// and more than max_output_bytes is ResourceExhausted ("decompressed body exceeds N bytes").
// Corrupt, truncated or trailing-garbage input is InvalidArgument. Empty input is an empty
// body for every encoding, since some clients set Content-Encoding on empty requests.
//
// kDeflate is the zlib format (RFC 1950) as HTTP specifies, but raw deflate (RFC 1951) is
// accepted too because some clients send that under the same name. kGzip accepts
// concatenated members (RFC 1952 allows them). kZstd accepts concatenated and skippable
// frames and limits the decoder window to 8 MiB (RFC 8878's recommendation for HTTP).
// gzip and deflate decode through libdeflate (whole-buffer; a declared size is only a first
// guess of the output space, never more than the limit); what it refuses is decoded again by
// zlib's streaming inflate, which gives the verdict and its message.
absl::Status decompress(Compression c, std::string_view input, size_t max_output_bytes,
                        std::string& out);
// The same, asking `may_hold(bytes)` before the output buffer grows to `bytes` (its whole size):
// false stops with Unavailable, so that a small compressed body cannot make a receiver hold up to
// max_output_bytes of memory its budget did not grant (the receivers grow their admission
// reservation here). The output buffer never grows by more than doubling, or to the limit.
absl::Status decompress(Compression c, std::string_view input, size_t max_output_bytes,
                        std::string& out, absl::FunctionRef<bool(size_t)> may_hold);

// Compresses with gzip, deflate (zlib format) or zstd at the libraries' default levels,
// which favour speed (gzip and deflate through ISA-L's igzip at level 1). kNone returns a copy.
absl::StatusOr<std::string> compress(Compression c, std::string_view input);

}  // namespace otlpd::common
