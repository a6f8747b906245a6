#include "extensions/auth/htpasswd.h"

#include <crypt.h>
#include <openssl/sha.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "extensions/auth/credentials.h"

namespace otlpd::extensions::auth {
namespace {

std::string_view trimLine(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

}  // namespace

absl::StatusOr<Htpasswd> Htpasswd::parse(std::string_view text, std::string_view source) {
  Htpasswd out;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t end = text.find('\n');
    const std::string_view line = trimLine(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.empty() || line.front() == '#') continue;
    auto error = [&](std::string_view why) {
      return absl::InvalidArgumentError(source.empty()
                                            ? strCat("line ", line_number, ": ", why)
                                            : strCat(source, " line ", line_number, ": ", why));
    };
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return error("expected user:hash");
    }
    const std::string user(line.substr(0, colon));
    const std::string_view hash = line.substr(colon + 1);
    Entry entry{Scheme::kPlain, std::string(hash)};
    if (hash.starts_with("{SHA}")) {
      std::string digest;
      if (!absl::Base64Unescape(toAbsl(hash.substr(5)), &digest) ||
          digest.size() != SHA_DIGEST_LENGTH) {
        return error("a {SHA} entry must be the base64 of a SHA-1 digest");
      }
      entry = {Scheme::kSha1, digest};
    } else if (hash.starts_with("$")) {
      const std::string setting(hash);
      const int verdict = crypt_checksalt(setting.c_str());
      if (verdict != CRYPT_SALT_OK && verdict != CRYPT_SALT_METHOD_LEGACY &&
          verdict != CRYPT_SALT_TOO_CHEAP) {
        return error(
            hash.starts_with("$apr1$")
                ? "Apache MD5 ($apr1$) entries cannot be checked here; use bcrypt (htpasswd -B)"
                : "this system's crypt cannot check this hash; use bcrypt (htpasswd -B)");
      }
      entry.scheme = Scheme::kCrypt;
    }
    out.entries_.insert_or_assign(user, std::move(entry));
  }
  return out;
}

void Htpasswd::merge(const Htpasswd& later) {
  for (const auto& [user, entry] : later.entries_) entries_.insert_or_assign(user, entry);
}

size_t Htpasswd::plainTextEntries() const {
  size_t n = 0;
  for (const auto& [user, entry] : entries_) n += entry.scheme == Scheme::kPlain ? 1 : 0;
  return n;
}

bool Htpasswd::check(const Entry& entry, std::string_view password) {
  switch (entry.scheme) {
    case Scheme::kPlain:
      return secretsEqual(password, entry.hash);
    case Scheme::kSha1: {
      unsigned char digest[SHA_DIGEST_LENGTH];
      SHA1(reinterpret_cast<const unsigned char*>(password.data()), password.size(), digest);
      return secretsEqual(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest),
                          entry.hash);
    }
    case Scheme::kCrypt: {
      // crypt reads a C string: a password with a NUL would be checked as its prefix.
      if (password.find('\0') != std::string_view::npos) return false;
      const std::string phrase(password);
      auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on a server thread's stack
      const char* hashed = crypt_rn(phrase.c_str(), entry.hash.c_str(), data.get(), sizeof *data);
      return hashed != nullptr && secretsEqual(hashed, entry.hash);
    }
  }
  return false;
}

bool Htpasswd::verify(std::string_view user, std::string_view password) const {
  if (entries_.empty()) return false;
  auto it = entries_.find(user);
  if (it == entries_.end()) {
    // The same work as for a known user, with a result that cannot be true.
    (void)check(entries_.begin()->second, password);
    return false;
  }
  return check(it->second, password);
}

}  // namespace otlpd::extensions::auth
