// The metadata a client sent with a request (gRPC metadata, HTTP headers), kept with the batch when
// the receiver is configured with `include_metadata: true`, as the Collector's client.Info is:
// processors read it (the attributes processor's `from_context`). Keys are lower-case.
// It also carries what a server authenticator learned about the client (client.Info.Auth in the
// Collector), whether or not `include_metadata` is set: `from_context: auth.<name>` reads it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otlpd::pipeline {

class RequestMetadata {
 public:
  void add(std::string_view key, std::string_view value);
  // The first value of `key` (any case), or nullopt.
  std::optional<std::string_view> first(std::string_view key) const;
  // Every value of `key` (any case), in the order received.
  std::vector<std::string_view> all(std::string_view key) const;
  bool empty() const { return entries_.empty() && auth_.empty(); }

  // An attribute the authenticator set ("subject", "username").
  void addAuth(std::string_view name, std::string_view value);
  std::optional<std::string_view> auth(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
  std::vector<std::pair<std::string, std::string>> auth_;
};

}  // namespace otlpd::pipeline
