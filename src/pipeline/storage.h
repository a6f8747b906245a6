// Storage extensions, as the OpenTelemetry Collector has them (`file_storage`): a place on disk
// that components keep state in, named by `storage: <extension id>` (an exporter's
// `sending_queue.storage`). Each component gets its own client, named as the Collector names it
// (`<kind>_<type>_<name>_<client name>`), so two exporters sharing one extension never share a
// file. The graph binds the reference when it is built (pipeline/extension_directory.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "pipeline/component.h"

namespace otlpd::pipeline {

class StorageExtension {
 public:
  virtual ~StorageExtension() = default;
  // The directory (created) where component `owner` of `kind` keeps the data it calls
  // `client_name` (the persistent queue: the signal, "traces").
  virtual absl::StatusOr<std::string> clientDirectory(ComponentKind kind, const ComponentId& owner,
                                                      std::string_view client_name) = 0;
  // The extension's `fsync`: whether every write is to be synced before it counts as done.
  virtual bool fsyncEachWrite() const = 0;
};

// A component's reference to a storage extension: the id it named and, once the graph has bound
// it (before any component starts), the extension. Components refuse to start unbound.
struct StorageRef {
  ComponentId id;
  std::shared_ptr<StorageExtension> storage;
};

// The Collector's client name for `<kind>_<type>_<name>_<client>`, with every character that
// is not a letter, digit, '-', '.' or '_' replaced, so that it is one safe path component.
std::string storageClientName(ComponentKind kind, const ComponentId& owner,
                              std::string_view client_name);

}  // namespace otlpd::pipeline
