#include "extensions/auth/credentials.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "common/strings.h"

namespace otlpd::extensions::auth {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

SecretDigest digestOf(std::string_view secret) {
  SecretDigest out{};
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), out.data());
  return out;
}

bool secretsEqual(std::string_view a, std::string_view b) {
  const SecretDigest da = digestOf(a), db = digestOf(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

std::optional<size_t> SecretSet::match(std::string_view presented) const {
  const SecretDigest d = digestOf(presented);
  std::optional<size_t> found;
  for (size_t i = 0; i < digests_.size(); ++i) {
    // Every entry is compared: how long this takes does not say which one matched.
    const bool equal = CRYPTO_memcmp(d.data(), digests_[i].data(), d.size()) == 0;
    if (equal && !found) found = i;
  }
  return found;
}

std::optional<AuthorizationValue> parseAuthorization(std::string_view value) {
  value = trim(value);
  const size_t space = value.find_first_of(" \t");
  if (space == 0 || space == std::string_view::npos) return std::nullopt;
  AuthorizationValue out{value.substr(0, space), trim(value.substr(space + 1))};
  if (out.credentials.empty()) return std::nullopt;
  return out;
}

std::optional<BasicCredentials> parseBasicAuthorization(std::string_view value) {
  std::optional<AuthorizationValue> parsed = parseAuthorization(value);
  if (!parsed || !absl::EqualsIgnoreCase(toAbsl(parsed->scheme), "basic")) return std::nullopt;
  std::string decoded;
  if (!absl::Base64Unescape(toAbsl(parsed->credentials), &decoded)) return std::nullopt;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
}

std::string basicAuthorization(std::string_view user, std::string_view password) {
  std::string plain;
  plain.reserve(user.size() + 1 + password.size());
  plain.append(user).append(":").append(password);
  return "Basic " + absl::Base64Escape(plain);
}

std::vector<std::string> parseTokenFile(std::string_view text) {
  std::vector<std::string> tokens;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = trim(text.substr(0, end));
    if (!line.empty()) tokens.emplace_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return tokens;
}

}  // namespace otlpd::extensions::auth
