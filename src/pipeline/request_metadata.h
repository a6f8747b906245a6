// The metadata a client sent with a request (gRPC metadata, HTTP headers), kept with the batch when
// the receiver is configured with `include_metadata: true`, as the Collector's client.Info is:
// processors read it (the attributes processor's `from_context`). Keys are lower-case.
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
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

}  // namespace otlpd::pipeline
