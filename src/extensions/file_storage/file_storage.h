#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::extensions::file_storage {

// The Collector's `file_storage` extension: a directory that components keep state in, each in
// its own client directory named as the Collector names its files
// (`exporter_otlp_backup_traces`), so exporters sharing one extension keep separate queues. A
// persistent queue names it with `sending_queue.storage: file_storage[/name]`. `fsync: true`
// makes such queues sync each request before acknowledging it (`durability: sync`). The bbolt
// compaction keys are accepted and checked but do nothing here (docs/STORAGE.md says why).
std::unique_ptr<pipeline::ExtensionFactory> makeFileStorageFactory();

}  // namespace otlpd::extensions::file_storage
