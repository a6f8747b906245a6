#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "config/config_node.h"
#include "pipeline/factory.h"

namespace otlpd::exporters::file {

enum class FileFormat { kJson, kProto };

// `rotation`, as the Collector's file exporter (lumberjack) reads it.
struct FileRotation {
  int64_t max_megabytes = 100;
  int64_t max_days = 0;  // 0: backups of any age are kept
  int64_t max_backups = 100;
  bool localtime = false;  // backup names in UTC unless true
};

// The Collector's `file` exporter keys, with its defaults (docs/CONFIG.md).
struct FileExporterOptions {
  std::string path;
  bool append = false;
  FileFormat format = FileFormat::kJson;
  bool zstd = false;
  absl::Duration flush_interval = absl::Seconds(1);
  std::optional<FileRotation> rotation;
  bool group_by = false;
  std::string group_attribute = "fileexporter.path_segment";
  int64_t max_open_files = 100;
  bool create_directory = false;
  uint32_t directory_permissions = 0755;
};

// Reads and checks the keys; every problem is reported on `config` with its path.
FileExporterOptions readFileExporterOptions(config::ConfigNode& config);

// Writes each batch to a file as the Collector's file exporter does: OTLP/JSON lines, or
// length-prefixed protobuf / zstd records, with rotation and one file per resource attribute
// value (`group_by`).
std::unique_ptr<pipeline::ExporterFactory> makeFileExporterFactory();

}  // namespace otlpd::exporters::file
