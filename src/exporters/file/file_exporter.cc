#include "exporters/file/file_exporter.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "pipeline/batch_json.h"

namespace otlpd::exporters::file {
namespace {

// Pipelines of several signals may name the same file exporter; they share one open file so
// lines never interleave.
class SharedFile {
 public:
  static absl::StatusOr<std::shared_ptr<SharedFile>> open(const std::string& path) {
    static std::mutex registry_mutex;
    static std::map<std::string, std::weak_ptr<SharedFile>> open_files;
    std::lock_guard lock(registry_mutex);
    if (auto existing = open_files[path].lock()) return existing;
    FILE* f = std::fopen(path.c_str(), "ae");
    if (f == nullptr) {
      return absl::UnavailableError(
          strCat("cannot open ", path, " for appending: ", std::strerror(errno)));
    }
    auto file = std::shared_ptr<SharedFile>(new SharedFile(f));
    open_files[path] = file;
    return file;
  }
  ~SharedFile() { std::fclose(file_); }

  absl::Status appendLine(const std::string& line) {
    std::lock_guard lock(mutex_);
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
      return absl::UnavailableError(strCat("write failed: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }

 private:
  explicit SharedFile(FILE* f) : file_(f) {}
  std::mutex mutex_;
  FILE* file_;
};

class FileExporter final : public pipeline::Exporter {
 public:
  FileExporter(const pipeline::CreateSettings& settings, std::string path)
      : id_(settings.id.toString()),
        path_(std::move(path)),
        failures_(&settings.metrics.counter("otlpd_exporter_send_failed_requests_total",
                                            "Batches an exporter failed to deliver.",
                                            {{"exporter", id_}})) {}

  absl::Status start(pipeline::Host&) override {
    auto f = SharedFile::open(path_);
    if (!f.ok()) return f.status();
    file_ = *std::move(f);
    return absl::OkStatus();
  }
  absl::Status shutdown() override {
    file_.reset();
    return absl::OkStatus();
  }

  absl::Status consume(pipeline::Batch&& batch) override {
    std::string line;
    pipeline::appendBatchJson(batch, line);
    line.push_back('\n');
    absl::Status s = file_->appendLine(line);
    if (!s.ok()) {
      failures_->add();
      logging::error("file exporter write failed",
                     {{"exporter", id_}, {"path", path_}, {"error", s.ToString()}});
    }
    return s;
  }

 private:
  std::string id_;
  std::string path_;
  common::Counter* failures_;
  std::shared_ptr<SharedFile> file_;
};

class FileExporterFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "file"; }
  bool supports(pipeline::Signal) const override { return true; }
  absl::StatusOr<std::unique_ptr<pipeline::Exporter>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      pipeline::Signal) const override {
    std::string path = config.getString("path", "");
    if (path.empty()) config.addError("path", "is required");
    const std::string format = config.getString("format", "json");
    if (format != "json") config.addError("format", "only json is supported");
    return std::make_unique<FileExporter>(settings, std::move(path));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> makeFileExporterFactory() {
  return std::make_unique<FileExporterFactory>();
}

}  // namespace otlpd::exporters::file
