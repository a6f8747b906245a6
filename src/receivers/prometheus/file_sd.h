// file_sd_configs: target groups from JSON or YAML files named by glob patterns, re-read when a
// file changes (polled by mtime, size and inode) and in full every refresh_interval. A file that
// cannot be read or parsed keeps its previous targets, as in Prometheus.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "receivers/prometheus/config.h"

namespace otlpd::receivers::prometheus {

// The groups in one file's text: a list of {targets: [...], labels: {...}}. Each group gets
// __meta_filepath = `path`. Errors name the file.
absl::StatusOr<std::vector<TargetGroup>> parseTargetGroupsFile(const std::string& path,
                                                               const std::string& text);

class FileDiscovery {
 public:
  explicit FileDiscovery(FileSdConfig config) : config_(std::move(config)) {}

  // Expands the patterns and reads the files that are new or changed (all when `force`); true
  // when the groups differ from before. Problems go to takeErrors().
  bool poll(bool force);
  // Every file's groups, in path order.
  std::vector<TargetGroup> groups() const;
  std::vector<std::string> takeErrors();
  const FileSdConfig& config() const { return config_; }

 private:
  struct FileState {
    dev_t device = 0;
    ino_t inode = 0;
    int64_t mtime_ns = 0;
    int64_t size = -1;
    std::vector<TargetGroup> groups;
  };
  FileSdConfig config_;
  std::map<std::string, FileState> files_;
  std::vector<std::string> errors_;
};

}  // namespace otlpd::receivers::prometheus
