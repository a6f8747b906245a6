#include "pipeline/authenticator.h"

#include "pipeline/extension_directory.h"

namespace otlpd::pipeline {
namespace {

template <class Authenticator>
std::shared_ptr<AuthenticatorRef<Authenticator>> readAuthenticator(config::ConfigNode& parent,
                                                                   const CreateSettings& settings,
                                                                   std::string_view role) {
  const bool present = parent.has("auth");
  config::ConfigNode auth = parent.child("auth");
  if (!present) return nullptr;
  const std::string name = auth.getString("authenticator", "");
  auth.rejectUnknownKeys();
  if (name.empty()) {
    auth.addError("authenticator", "is required: the id of an authenticator extension");
    return nullptr;
  }
  auto id = ComponentId::parse(name);
  if (!id.ok()) {
    auth.addError("authenticator", std::string(id.status().message()));
    return nullptr;
  }
  auto ref = std::make_shared<AuthenticatorRef<Authenticator>>();
  ref->id = *id;
  if (settings.extensions != nullptr) {
    settings.extensions->use(
        *id, auth, "authenticator", role, [ref](const std::shared_ptr<Extension>& extension) {
          auto* typed = dynamic_cast<Authenticator*>(extension.get());
          if (typed == nullptr) return false;
          // Shares the extension's ownership: it outlives the component.
          ref->authenticator = std::shared_ptr<Authenticator>(extension, typed);
          return true;
        });
  }
  return ref;
}

}  // namespace

ServerAuthRef readServerAuthenticator(config::ConfigNode& parent, const CreateSettings& settings) {
  return readAuthenticator<ServerAuthenticator>(parent, settings, "server authenticator");
}

ClientAuthRef readClientAuthenticator(config::ConfigNode& parent, const CreateSettings& settings) {
  return readAuthenticator<ClientAuthenticator>(parent, settings, "client authenticator");
}

}  // namespace otlpd::pipeline
