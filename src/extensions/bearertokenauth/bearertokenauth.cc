#include "extensions/bearertokenauth/bearertokenauth.h"

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/strings.h"
#include "extensions/auth/credentials.h"
#include "extensions/auth/file_watcher.h"
#include "pipeline/authenticator.h"

namespace otlpd::extensions::bearertokenauth {
namespace {

// How often `filename` is checked for a change.
constexpr absl::Duration kFilePollInterval = absl::Seconds(1);

struct NamedToken {
  std::string token;
  std::string name;  // "" when unnamed
};

struct Config {
  std::string header = "Authorization";
  std::string scheme = "Bearer";
  std::vector<NamedToken> tokens;  // `token` or `tokens`
  std::string filename;
};

// The tokens in force: replaced as a whole when the file changes.
struct Tokens {
  auth::SecretSet secrets;
  std::vector<std::string> names;  // by the index of `secrets`
  std::string first;               // what a client sends
};

std::shared_ptr<const Tokens> makeTokens(const std::vector<NamedToken>& tokens) {
  auto out = std::make_shared<Tokens>();
  for (const NamedToken& t : tokens) {
    out->secrets.add(t.token);
    out->names.push_back(t.name);
  }
  if (!tokens.empty()) out->first = tokens.front().token;
  return out;
}

class BearerTokenAuth final : public pipeline::Extension,
                              public pipeline::ServerAuthenticator,
                              public pipeline::ClientAuthenticator {
 public:
  BearerTokenAuth(std::string id, Config config)
      : id_(std::move(id)),
        config_(std::move(config)),
        header_(absl::AsciiStrToLower(config_.header)),
        tokens_(makeTokens(config_.tokens)) {}

  absl::Status start(pipeline::Host&) override {
    if (config_.filename.empty()) return absl::OkStatus();
    watcher_ = std::make_unique<auth::FileWatcher>(
        config_.filename, kFilePollInterval,
        [this](absl::StatusOr<std::string> contents) { reload(std::move(contents)); });
    absl::StatusOr<std::string> contents = watcher_->start();
    if (!contents.ok()) {
      watcher_.reset();
      return absl::FailedPreconditionError(
          strCat("bearertokenauth token file: ", contents.status().message()));
    }
    reload(std::move(contents));
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    if (watcher_) watcher_->stop();
    watcher_.reset();
    return absl::OkStatus();
  }

  absl::StatusOr<pipeline::AuthAttributes> authenticate(
      pipeline::HeaderLookup headers) const override {
    std::optional<std::string_view> value = headers(header_);
    if (!value) return absl::UnauthenticatedError(strCat("no ", config_.header, " header"));
    std::string_view token = *value;
    if (!config_.scheme.empty()) {
      std::optional<auth::AuthorizationValue> parsed = auth::parseAuthorization(*value);
      // The scheme is no secret, and is matched without regard to case (RFC 9110).
      if (!parsed || !absl::EqualsIgnoreCase(toAbsl(parsed->scheme), toAbsl(config_.scheme))) {
        return absl::UnauthenticatedError(strCat("not a ", config_.scheme, " credential"));
      }
      token = parsed->credentials;
    } else {
      token = toStd(absl::StripAsciiWhitespace(toAbsl(token)));
    }
    std::shared_ptr<const Tokens> tokens = current();
    std::optional<size_t> index = tokens->secrets.match(token);
    if (!index) return absl::UnauthenticatedError("token not accepted");
    pipeline::AuthAttributes attributes;
    if (!tokens->names[*index].empty()) attributes.emplace_back("subject", tokens->names[*index]);
    return attributes;
  }

  std::string_view credentialsHeader() const override { return header_; }

  std::string challenge() const override {
    return strCat(config_.scheme.empty() ? "Bearer" : config_.scheme, " realm=\"otlpd\"");
  }

  std::vector<std::pair<std::string, std::string>> requestHeaders() const override {
    std::shared_ptr<const Tokens> tokens = current();
    if (tokens->first.empty()) return {};
    return {{header_,
             config_.scheme.empty() ? tokens->first : strCat(config_.scheme, " ", tokens->first)}};
  }

 private:
  std::shared_ptr<const Tokens> current() const {
    std::lock_guard lock(mu_);
    return tokens_;
  }

  void reload(absl::StatusOr<std::string> contents) {
    if (!contents.ok()) {
      logging::error("bearertokenauth: token file not re-read; keeping the previous tokens",
                     {{"extension", id_}, {"error", contents.status()}});
      return;
    }
    std::vector<NamedToken> tokens;
    for (std::string& token : auth::parseTokenFile(*contents))
      tokens.push_back({std::move(token), ""});
    if (tokens.empty()) {
      logging::warn("bearertokenauth: the token file holds no token; every request is refused",
                    {{"extension", id_}, {"file", config_.filename}});
    }
    auto next = makeTokens(tokens);
    {
      std::lock_guard lock(mu_);
      tokens_ = std::move(next);
    }
    logging::info("bearertokenauth: tokens loaded",
                  {{"extension", id_}, {"file", config_.filename}, {"tokens", tokens.size()}});
  }

  std::string id_;
  Config config_;
  std::string header_;  // lower-case
  mutable std::mutex mu_;
  std::shared_ptr<const Tokens> tokens_;
  std::unique_ptr<auth::FileWatcher> watcher_;
};

class BearerTokenAuthFactory final : public pipeline::ExtensionFactory {
 public:
  std::string_view type() const override { return "bearertokenauth"; }
  absl::StatusOr<std::unique_ptr<pipeline::Extension>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config) const override {
    Config c;
    c.header = config.getString("header", c.header);
    if (c.header.empty()) config.addError("header", "must not be empty");
    c.scheme = config.getString("scheme", c.scheme);
    const std::string token = config.getString("token", "");
    if (!token.empty()) c.tokens.push_back({token, ""});
    if (std::optional<YAML::Node> list = config.getYaml("tokens")) {
      if (!token.empty()) config.addError("tokens", "set either token or tokens, not both");
      if (!list->IsSequence()) {
        config.addError("tokens", "must be a list of tokens");
      } else {
        for (size_t i = 0; i < list->size(); ++i) {
          const YAML::Node item = (*list)[i];
          const std::string path = strCat(config.path(), ".tokens[", i, "]");
          NamedToken t;
          if (item.IsScalar()) {
            t.token = item.Scalar();
          } else if (item.IsMap()) {
            // Beyond the Collector: a token may carry a name, the client's `auth.subject`.
            config::ConfigNode entry(item, path, config.errors());
            t.token = entry.getString("token", "");
            t.name = entry.getString("name", "");
            entry.rejectUnknownKeys();
          }
          if (t.token.empty()) {
            config.errors().add(path, item.Mark(),
                                "must be a token, or a mapping with a token and a name");
            continue;
          }
          c.tokens.push_back(std::move(t));
        }
      }
    }
    c.filename = config.getString("filename", "");
    if (c.tokens.empty() && c.filename.empty()) {
      config.addError("token", "one of token, tokens or filename is required");
    } else if (!c.tokens.empty() && !c.filename.empty()) {
      // As the Collector does: the file wins.
      logging::warn("bearertokenauth: filename is set, so token and tokens are ignored",
                    {{"extension", settings.id.toString()}});
      c.tokens.clear();
    }
    return std::make_unique<BearerTokenAuth>(settings.id.toString(), std::move(c));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExtensionFactory> makeBearerTokenAuthFactory() {
  return std::make_unique<BearerTokenAuthFactory>();
}

}  // namespace otlpd::extensions::bearertokenauth
