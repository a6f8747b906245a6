// The pure parts of checking credentials: comparing secrets without leaking through timing,
// reading Authorization headers, and token files. No I/O.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otlpd::extensions::auth {

// SHA-256 of a secret. Secrets are compared as digests: every comparison then takes the same
// time whatever the lengths and contents (CRYPTO_memcmp over 32 bytes), so timing tells an
// attacker neither how long a token is nor how much of it matched.
using SecretDigest = std::array<uint8_t, 32>;
SecretDigest digestOf(std::string_view secret);

// Constant-time equality of two secrets (of any lengths).
bool secretsEqual(std::string_view a, std::string_view b);

// A set of accepted secrets. match() compares the presented one with every entry, without
// stopping at the first match, and says which matched.
class SecretSet {
 public:
  void add(std::string_view secret) { digests_.push_back(digestOf(secret)); }
  bool empty() const { return digests_.empty(); }
  size_t size() const { return digests_.size(); }
  std::optional<size_t> match(std::string_view presented) const;

 private:
  std::vector<SecretDigest> digests_;
};

// "Bearer abc" → {"Bearer", "abc"}: the scheme (a token, RFC 9110 §11.4), one or more spaces,
// and the credentials with surrounding whitespace removed. nullopt without a scheme and
// credentials.
struct AuthorizationValue {
  std::string_view scheme;
  std::string_view credentials;
};
std::optional<AuthorizationValue> parseAuthorization(std::string_view value);

// The user and password of "Basic base64(user:password)" (RFC 7617); the scheme matched without
// regard to case. nullopt when it is not that.
struct BasicCredentials {
  std::string user;
  std::string password;
};
std::optional<BasicCredentials> parseBasicAuthorization(std::string_view value);
// The header value a client sends: "Basic " + base64(user:password).
std::string basicAuthorization(std::string_view user, std::string_view password);

// A token file: one token per line, surrounding whitespace removed, blank lines skipped (a
// trailing newline is not an empty token that anyone could present).
std::vector<std::string> parseTokenFile(std::string_view text);

// At most `limit` holders at once. tryAcquire() never waits: it runs on server I/O threads, which
// must answer (refuse) rather than queue behind expensive work such as bcrypt checks.
class ConcurrencyLimit {
 public:
  explicit ConcurrencyLimit(int limit) : limit_(limit < 1 ? 1 : limit) {}

  // Releases its place when destroyed.
  class Slot {
   public:
    explicit Slot(std::atomic<int>* in_use) : in_use_(in_use) {}
    Slot(Slot&& o) noexcept : in_use_(o.in_use_) { o.in_use_ = nullptr; }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (in_use_ != nullptr) in_use_->fetch_sub(1, std::memory_order_acq_rel);
    }

   private:
    std::atomic<int>* in_use_;
  };

  std::optional<Slot> tryAcquire() {
    int n = in_use_.load(std::memory_order_relaxed);
    do {
      if (n >= limit_) return std::nullopt;
    } while (!in_use_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel));
    return Slot(&in_use_);
  }
  int inUse() const { return in_use_.load(std::memory_order_relaxed); }
  int limit() const { return limit_; }

 private:
  const int limit_;
  std::atomic<int> in_use_{0};
};

}  // namespace otlpd::extensions::auth
