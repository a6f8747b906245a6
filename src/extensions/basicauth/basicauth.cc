#include "extensions/basicauth/basicauth.h"

#include <openssl/rand.h>

#include <algorithm>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "extensions/auth/credentials.h"
#include "extensions/auth/file_watcher.h"
#include "extensions/auth/htpasswd.h"
#include "pipeline/authenticator.h"

namespace otlpd::extensions::basicauth {
namespace {

constexpr absl::Duration kFilePollInterval = absl::Seconds(1);
// Credentials checked recently, passed or refused, so that a client's every request does not pay
// for a bcrypt hash (~90 ms at cost 10 here, by design): neither a client that is let in nor a
// misconfigured one retrying the same wrong password in a loop. Bounded; emptied when the
// htpasswd changes (only a change can turn a verdict).
constexpr size_t kMaxRememberedCredentials = 1024;

// bcrypt checks running at once, per extension: half the cores (at least 1, at most 4). Checks run
// on the listeners' I/O threads; a flood of new passwords (each unknown to the cache above) would
// otherwise occupy every I/O thread for ~90 ms a request. Beyond the limit a new credential is
// refused at once (401; a client retries), while remembered ones still pass without a check.
int maxConcurrentChecks() {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(cores / 2, 1, 4);
}

// What a header's credentials are remembered by: a digest keyed with a secret of this process,
// so memory holds nothing a password could be recovered from offline cheaply.
class CredentialKey {
 public:
  CredentialKey() {
    if (RAND_bytes(key_, sizeof key_) != 1) {
      // Without randomness, still a digest of the header; only its offline cost is lower.
      for (size_t i = 0; i < sizeof key_; ++i) key_[i] = static_cast<unsigned char>(i);
    }
  }
  std::string of(std::string_view header) const {
    std::string keyed(reinterpret_cast<const char*>(key_), sizeof key_);
    keyed.append(header);
    const auth::SecretDigest d = auth::digestOf(keyed);
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  }

 private:
  unsigned char key_[32];
};

// The users in force and the credentials that recently passed; replaced as a whole on reload.
struct Users {
  auth::Htpasswd htpasswd;
  mutable std::mutex mu;
  mutable std::unordered_map<std::string, std::string> passed;  // key of the header → user
  mutable std::unordered_set<std::string> refused;              // keys of refused headers
};

class BasicAuthServer final : public pipeline::Extension, public pipeline::ServerAuthenticator {
 public:
  BasicAuthServer(const pipeline::CreateSettings& settings, std::string file,
                  auth::Htpasswd inline_entries)
      : id_(settings.id.toString()),
        file_(std::move(file)),
        inline_(std::move(inline_entries)),
        checks_(&settings.metrics.counter(
            "otlpd_extension_basicauth_password_checks_total",
            "Passwords checked against the htpasswd hashes (credentials not remembered yet).",
            {{"extension", id_}})),
        checks_refused_(&settings.metrics.counter(
            "otlpd_extension_basicauth_checks_refused_total",
            "Credentials refused unchecked because the most password checks allowed at once "
            "were running.",
            {{"extension", id_}})) {
    auto users = std::make_shared<Users>();
    users->htpasswd = inline_;
    users_ = std::move(users);
  }

  absl::Status start(pipeline::Host&) override {
    if (file_.empty()) {
      warnPlainText(*users_);
      return absl::OkStatus();
    }
    watcher_ = std::make_unique<auth::FileWatcher>(
        file_, kFilePollInterval, [this](absl::StatusOr<std::string> contents) {
          if (absl::Status s = load(std::move(contents)); !s.ok()) {
            logging::error("basicauth: htpasswd file not re-read; keeping the previous users",
                           {{"extension", id_}, {"error", s}});
          }
        });
    absl::StatusOr<std::string> contents = watcher_->start();
    absl::Status loaded = contents.ok() ? load(std::move(contents)) : contents.status();
    if (!loaded.ok()) {
      watcher_.reset();
      return absl::FailedPreconditionError(strCat("basicauth htpasswd.file: ", loaded.message()));
    }
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    if (watcher_) watcher_->stop();
    watcher_.reset();
    return absl::OkStatus();
  }

  absl::StatusOr<pipeline::AuthAttributes> authenticate(
      pipeline::HeaderLookup headers) const override {
    std::optional<std::string_view> value = headers("authorization");
    if (!value) return absl::UnauthenticatedError("no Authorization header");
    std::shared_ptr<const Users> users = current();
    const std::string key = key_.of(*value);
    {
      std::lock_guard lock(users->mu);
      if (auto it = users->passed.find(key); it != users->passed.end()) {
        return attributesOf(it->second);
      }
      if (users->refused.count(key) != 0) {
        return absl::UnauthenticatedError("user unknown or wrong password (seen before)");
      }
    }
    std::optional<auth::BasicCredentials> credentials = auth::parseBasicAuthorization(*value);
    if (!credentials) return absl::UnauthenticatedError("not a Basic credential");
    std::optional<auth::ConcurrencyLimit::Slot> slot = check_limit_.tryAcquire();
    if (!slot) {
      checks_refused_->add();
      return absl::UnauthenticatedError("too many password checks at once; not checked");
    }
    checks_->add();
    const bool verified = users->htpasswd.verify(credentials->user, credentials->password);
    slot.reset();
    if (!verified) {
      std::lock_guard lock(users->mu);
      if (users->refused.size() >= kMaxRememberedCredentials) users->refused.clear();
      users->refused.insert(key);
      return absl::UnauthenticatedError("user unknown or wrong password");
    }
    {
      std::lock_guard lock(users->mu);
      if (users->passed.size() >= kMaxRememberedCredentials) users->passed.clear();
      users->passed.emplace(key, credentials->user);
    }
    return attributesOf(credentials->user);
  }

  std::string challenge() const override { return "Basic realm=\"otlpd\", charset=\"UTF-8\""; }

 private:
  static pipeline::AuthAttributes attributesOf(const std::string& user) {
    return {{"username", user}, {"subject", user}};
  }

  std::shared_ptr<const Users> current() const {
    std::lock_guard lock(mu_);
    return users_;
  }

  // The file's users, then the inline ones over them (as the Collector reads them).
  absl::Status load(absl::StatusOr<std::string> contents) {
    if (!contents.ok()) return contents.status();
    absl::StatusOr<auth::Htpasswd> parsed = auth::Htpasswd::parse(*contents, file_);
    if (!parsed.ok()) return parsed.status();
    auto users = std::make_shared<Users>();
    users->htpasswd = *std::move(parsed);
    users->htpasswd.merge(inline_);
    warnPlainText(*users);
    logging::info("basicauth: users loaded",
                  {{"extension", id_}, {"file", file_}, {"users", users->htpasswd.size()}});
    std::lock_guard lock(mu_);
    users_ = std::move(users);
    return absl::OkStatus();
  }

  void warnPlainText(const Users& users) const {
    if (size_t plain = users.htpasswd.plainTextEntries(); plain > 0) {
      logging::warn("basicauth: htpasswd entries with plain-text passwords; prefer bcrypt",
                    {{"extension", id_}, {"entries", plain}});
    }
  }

  std::string id_;
  std::string file_;
  auth::Htpasswd inline_;
  CredentialKey key_;
  common::Counter* checks_;
  common::Counter* checks_refused_;
  mutable auth::ConcurrencyLimit check_limit_{maxConcurrentChecks()};
  mutable std::mutex mu_;
  std::shared_ptr<const Users> users_;
  std::unique_ptr<auth::FileWatcher> watcher_;
};

class BasicAuthClient final : public pipeline::Extension, public pipeline::ClientAuthenticator {
 public:
  BasicAuthClient(std::string user, std::string password)
      : header_(auth::basicAuthorization(user, password)) {}
  absl::Status start(pipeline::Host&) override { return absl::OkStatus(); }
  absl::Status shutdown() override { return absl::OkStatus(); }
  std::vector<std::pair<std::string, std::string>> requestHeaders() const override {
    return {{"authorization", header_}};
  }

 private:
  std::string header_;
};

class BasicAuthFactory final : public pipeline::ExtensionFactory {
 public:
  std::string_view type() const override { return "basicauth"; }
  absl::StatusOr<std::unique_ptr<pipeline::Extension>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config) const override {
    const bool server = config.has("htpasswd"), client = config.has("client_auth");
    config::ConfigNode htpasswd = config.child("htpasswd");
    const std::string file = htpasswd.getString("file", "");
    const std::string inline_text = htpasswd.getString("inline", "");
    htpasswd.rejectUnknownKeys();
    config::ConfigNode client_auth = config.child("client_auth");
    const std::string user = client_auth.getString("username", "");
    const std::string password = client_auth.getString("password", "");
    client_auth.rejectUnknownKeys();
    if (server && client) {
      config.addError("client_auth",
                      "one basicauth extension is either a server (htpasswd) or a client "
                      "(client_auth); define two");
    } else if (!server && !client) {
      config.addError("htpasswd", "one of htpasswd (server) or client_auth (client) is required");
    }
    if (client) {
      if (user.find(':') != std::string::npos) {
        client_auth.addError("username", "must not contain ':' (RFC 7617)");
      }
      return std::make_unique<BasicAuthClient>(user, password);
    }
    if (server && file.empty() && inline_text.empty()) {
      htpasswd.addError("file", "one of file or inline is required");
    }
    // Inline entries are checked now, so `otlpd validate` reports them; the file at start.
    absl::StatusOr<auth::Htpasswd> inline_entries = auth::Htpasswd::parse(inline_text, "");
    if (!inline_entries.ok()) {
      htpasswd.addError("inline", std::string(inline_entries.status().message()));
      inline_entries = auth::Htpasswd();
    }
    return std::make_unique<BasicAuthServer>(settings, file, *std::move(inline_entries));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExtensionFactory> makeBasicAuthFactory() {
  return std::make_unique<BasicAuthFactory>();
}

}  // namespace otlpd::extensions::basicauth
