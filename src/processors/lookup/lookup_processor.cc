#include "processors/lookup/lookup_processor.h"

#include <sys/stat.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "processors/common/editing_processor.h"
#include "processors/lookup/table.h"

namespace otlpd::processors::lookup {
namespace {

enum class OnConflict { kKeep, kOverwrite };

struct Config {
  std::string file;
  TableFormat format = TableFormat::kCsv;
  std::vector<std::string> keys = {"service.name"};
  std::string default_key = std::string(kDefaultRowKey);
  std::optional<LookupRow> default_row;  // from the config, prefixed
  OnConflict on_conflict = OnConflict::kKeep;
  absl::Duration reload_interval = absl::Seconds(10);
  std::string attribute_prefix;
};

// Identifies one version of the file without reading it.
struct FileVersion {
  bool exists = false;
  int64_t mtime_ns = 0;
  int64_t size = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  friend bool operator==(const FileVersion&, const FileVersion&) = default;
};

FileVersion statFile(const std::string& path) {
  struct stat st {};
  FileVersion v;
  if (::stat(path.c_str(), &st) != 0) return v;
  v.exists = true;
  v.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  v.size = static_cast<int64_t>(st.st_size);
  v.inode = static_cast<uint64_t>(st.st_ino);
  v.device = static_cast<uint64_t>(st.st_dev);
  return v;
}

absl::StatusOr<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(strCat("cannot open ", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(strCat("cannot read ", path));
  return text.str();
}

// Enriches each resource from one table snapshot.
class LookupEditor final : public otlp::TracesEditor,
                           public otlp::LogsEditor,
                           public otlp::MetricsEditor {
 public:
  LookupEditor(const LookupTable& table, const Config& config) : table_(table), config_(config) {
    key_values_.resize(config.keys.size());
    rendered_.resize(config.keys.size());
  }
  otlp::EditDepth depth() const override { return otlp::EditDepth::kResource; }

  bool editResource(otlp::MessageEdit& resource) override {
    otlp::AttributeList& attributes = resource.attributes();
    const LookupRow* row = match(attributes);
    if (row != nullptr) {
      ++hits;
    } else {
      ++misses;
      row = table_.defaultRow();
      if (row == nullptr && config_.default_row) row = &*config_.default_row;
      if (row == nullptr) return true;
    }
    for (const auto& [name, value] : row->attributes) {
      std::optional<size_t> index = attributes.find(name);
      if (!index) {
        attributes.append(name, value);
      } else if (config_.on_conflict == OnConflict::kOverwrite &&
                 !(attributes.value(*index) == value)) {
        attributes.set(*index, value);
      }
    }
    return true;
  }

  uint64_t hits = 0;
  uint64_t misses = 0;

 private:
  const LookupRow* match(const otlp::AttributeList& attributes) {
    for (size_t k = 0; k < config_.keys.size(); ++k) {
      std::optional<size_t> index = attributes.find(config_.keys[k]);
      if (!index) return nullptr;
      if (std::optional<std::string_view> text = attributes.stringValue(*index)) {
        key_values_[k] = *text;
      } else {
        // A non-string key (an int, a bool) matches the cell that reads the same.
        rendered_[k] = otlp::valueAsString(attributes.value(*index));
        key_values_[k] = rendered_[k];
      }
    }
    return key_values_.size() == 1 ? table_.find(key_values_[0]) : table_.find(key_values_);
  }

  const LookupTable& table_;
  const Config& config_;
  std::vector<std::string_view> key_values_;
  std::vector<std::string> rendered_;
};

// A batch's edit: the table snapshot it holds, the hits and misses counted once the walk is done.
class Edit final : public BatchEdit {
 public:
  Edit(std::shared_ptr<const LookupTable> table, const Config& config, common::Counter& hits,
       common::Counter& misses)
      : table_(std::move(table)), editor_(*table_, config), hits_(hits), misses_(misses) {}
  otlp::TracesEditor* traces() override { return &editor_; }
  otlp::LogsEditor* logs() override { return &editor_; }
  otlp::MetricsEditor* metrics() override { return &editor_; }
  absl::Status finish() override {
    if (editor_.hits != 0) hits_.add(editor_.hits);
    if (editor_.misses != 0) misses_.add(editor_.misses);
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<const LookupTable> table_;
  LookupEditor editor_;
  common::Counter& hits_;
  common::Counter& misses_;
};

class LookupProcessor final : public EditingProcessor {
 public:
  // Edits every batch, drops none: the next consumer's refusal is its answer.
  bool passesBackpressure() const override { return true; }
  LookupProcessor(const pipeline::CreateSettings& settings, pipeline::Signal signal,
                  std::shared_ptr<pipeline::Consumer> next, Config config)
      : EditingProcessor(settings, signal, std::move(next)),
        config_(std::move(config)),
        hits_(&settings.metrics.counter("otlpd_lookup_hits_total",
                                        "Resources a lookup table had a row for.",
                                        {{"processor", id()}})),
        misses_(&settings.metrics.counter(
            "otlpd_lookup_misses_total",
            "Resources a lookup table had no row for (the default row applies, if any).",
            {{"processor", id()}})),
        reloads_(&settings.metrics.counter("otlpd_lookup_reloads_total",
                                           "Times a lookup table was loaded from its file.",
                                           {{"processor", id()}})),
        reload_errors_(&settings.metrics.counter(
            "otlpd_lookup_reload_errors_total",
            "Versions of a lookup table's file that could not be loaded (the old table stays).",
            {{"processor", id()}})) {}

  ~LookupProcessor() override { (void)shutdown(); }

  absl::Status start(pipeline::Host&) override {
    const FileVersion version = statFile(config_.file);
    absl::StatusOr<std::shared_ptr<const LookupTable>> table = load();
    if (!table.ok()) {
      return absl::FailedPreconditionError(
          strCat("lookup table ", config_.file, ": ", table.status().message()));
    }
    install(*std::move(table), version);
    if (config_.reload_interval > absl::ZeroDuration()) {
      std::lock_guard lock(mutex_);
      stopping_ = false;
      watcher_ = std::thread([this] { watch(); });
    }
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (watcher_.joinable()) watcher_.join();
    return absl::OkStatus();
  }

 protected:
  bool editsInOneWalk() const override { return true; }
  std::unique_ptr<BatchEdit> beginEdit() override {
    // One snapshot per batch: every resource of it sees the same table.
    std::shared_ptr<const LookupTable> table;
    {
      std::lock_guard lock(table_mutex_);
      table = table_;
    }
    if (table == nullptr) return nullptr;
    return std::make_unique<Edit>(std::move(table), config_, *hits_, *misses_);
  }

 private:
  absl::StatusOr<std::shared_ptr<const LookupTable>> load() const {
    absl::StatusOr<std::string> text = readFile(config_.file);
    if (!text.ok()) return text.status();
    absl::StatusOr<LookupTable> table =
        parseLookupTable(*text, config_.format, config_.keys, config_.default_key);
    if (!table.ok()) return table.status();
    table->prefixAttributes(config_.attribute_prefix);
    return std::make_shared<const LookupTable>(*std::move(table));
  }

  void install(std::shared_ptr<const LookupTable> table, const FileVersion& version) {
    const size_t rows = table->size();
    {
      std::lock_guard lock(table_mutex_);
      table_ = std::move(table);
    }
    loaded_ = version;
    failed_.reset();
    reloads_->add();
    logging::info("lookup table loaded",
                  {{"processor", id()}, {"file", config_.file}, {"rows", rows}});
  }

  // Polls the file; a new version replaces the table if it loads, else is reported once.
  void watch() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, absl::ToChronoNanoseconds(config_.reload_interval));
      if (stopping_) break;
      lock.unlock();
      checkFile();
      lock.lock();
    }
  }

  void checkFile() {
    const FileVersion version = statFile(config_.file);
    if (version == loaded_ || (failed_ && version == *failed_)) return;
    absl::StatusOr<std::shared_ptr<const LookupTable>> table =
        version.exists ? load() : absl::NotFoundError(strCat(config_.file, " does not exist"));
    // A writer that rewrites the file in place may still be at it: what was read counts only if
    // the file did not change meanwhile (otherwise the next poll reads it again).
    if (!(statFile(config_.file) == version)) return;
    if (table.ok()) {
      install(*std::move(table), version);
      return;
    }
    failed_ = version;
    reload_errors_->add();
    logging::error("lookup table not reloaded; keeping the previous one",
                   {{"processor", id()}, {"file", config_.file}, {"error", table.status()}});
  }

  Config config_;
  common::Counter* hits_;
  common::Counter* misses_;
  common::Counter* reloads_;
  common::Counter* reload_errors_;

  std::mutex table_mutex_;
  std::shared_ptr<const LookupTable> table_;

  // Watcher state; loaded_ and failed_ are touched by start() and then the watcher only.
  FileVersion loaded_;
  std::optional<FileVersion> failed_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread watcher_;
};

class LookupFactory final : public pipeline::ProcessorFactory {
 public:
  std::string_view type() const override { return "lookup"; }
  bool supports(pipeline::Signal) const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Processor>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config, pipeline::Signal signal,
      std::shared_ptr<pipeline::Consumer> next) const override {
    Config cfg;
    cfg.file = config.getString("file", "");
    if (cfg.file.empty()) config.addError("file", "is required: the path of the table");
    if (config.has("format")) {
      const std::string format = config.getString("format", "");
      if (std::optional<TableFormat> f = tableFormatFromName(format)) {
        cfg.format = *f;
      } else {
        config.addError("format", strCat("'", format, "' is not csv, json or yaml"));
      }
    } else if (!cfg.file.empty()) {
      if (std::optional<TableFormat> f = tableFormatFromPath(cfg.file)) {
        cfg.format = *f;
      } else {
        config.addError("file", "has no .csv, .json, .yaml or .yml extension: set `format`");
      }
    }
    if (config.has("keys")) {
      cfg.keys = config.getStringList("keys");
      if (cfg.keys.empty()) config.addError("keys", "must name at least one resource attribute");
    }
    cfg.attribute_prefix = config.getString("attribute_prefix", "");
    if (std::optional<YAML::Node> node = config.getYaml("default")) {
      if (node->IsScalar()) {
        cfg.default_key = node->Scalar();
      } else if (absl::StatusOr<LookupRow> row = rowFromYaml(*node); row.ok()) {
        for (auto& [name, value] : row->attributes) name = strCat(cfg.attribute_prefix, name);
        cfg.default_row = *std::move(row);
      } else {
        config.addError("default",
                        strCat("must be the key of the table's default row or a mapping of "
                               "attributes: ",
                               row.status().message()));
      }
    }
    const std::string on_conflict = config.getString("on_conflict", "keep");
    if (on_conflict == "overwrite") {
      cfg.on_conflict = OnConflict::kOverwrite;
    } else if (on_conflict != "keep") {
      config.addError("on_conflict", strCat("'", on_conflict, "' is not keep or overwrite"));
    }
    cfg.reload_interval = config.getDuration("reload_interval", absl::Seconds(10));
    config.rejectUnknownKeys();
    return std::make_unique<LookupProcessor>(settings, signal, std::move(next), std::move(cfg));
  }
};

}  // namespace

std::unique_ptr<pipeline::ProcessorFactory> makeLookupFactory() {
  return std::make_unique<LookupFactory>();
}

}  // namespace otlpd::processors::lookup
