// htpasswd files (Apache's format, which the Collector's basicauth extension reads): `user:hash`
// lines. Hashes are checked through the system's crypt (libxcrypt: bcrypt `$2b$`/`$2y$`/`$2a$`,
// SHA-crypt `$5$`/`$6$`, yescrypt `$y$`), or are `{SHA}` (base64 SHA-1) or plain text, as
// htpasswd files may hold. No I/O: the text is given.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace otlpd::extensions::auth {

class Htpasswd {
 public:
  // Reads every line; blank lines and `#` comments are skipped, and a later line for a user
  // replaces an earlier one. A line that is not `user:hash`, or a hash this system cannot check
  // (Apache's `$apr1$` MD5), is an error naming `source` (if not empty) and the line.
  static absl::StatusOr<Htpasswd> parse(std::string_view text, std::string_view source);

  // Adds `later`'s users, replacing ours of the same name (inline entries after the file's).
  void merge(const Htpasswd& later);

  // Whether `password` is `user`'s. An unknown user costs about as much as a wrong password (a
  // hash is still computed), so timing does not tell which users exist.
  bool verify(std::string_view user, std::string_view password) const;

  size_t size() const { return entries_.size(); }
  // Users whose password is stored in plain text (accepted, as the Collector does; worth a
  // warning).
  size_t plainTextEntries() const;

 private:
  enum class Scheme { kCrypt, kSha1, kPlain };
  struct Entry {
    Scheme scheme;
    std::string hash;
  };
  static bool check(const Entry& entry, std::string_view password);

  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace otlpd::extensions::auth
