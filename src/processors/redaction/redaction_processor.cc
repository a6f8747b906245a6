#include "processors/redaction/redaction_processor.h"

#include "common/strings.h"
#include "processors/common/editing_processor.h"
#include "processors/redaction/redactor.h"

namespace otlpd::processors::redaction {
namespace {

class TracesRedaction final : public otlp::TracesEditor {
 public:
  explicit TracesRedaction(const Redactor& redactor) : redactor_(redactor) {}
  otlp::EditDepth depth() const override { return otlp::EditDepth::kSubItem; }
  bool editSpan(const otlp::MessageEdit&, const otlp::MessageEdit&,
                otlp::MessageEdit& span) override {
    redactor_.redactAttributes(span.attributes());
    return true;
  }
  bool editSpanEvent(const otlp::MessageEdit&, const otlp::MessageEdit&, const otlp::MessageEdit&,
                     otlp::MessageEdit& event) override {
    redactor_.redactAttributes(event.attributes());
    return true;
  }

 private:
  const Redactor& redactor_;
};

class LogsRedaction final : public otlp::LogsEditor {
 public:
  explicit LogsRedaction(const Redactor& redactor) : redactor_(redactor) {}
  otlp::EditDepth depth() const override { return otlp::EditDepth::kItem; }
  bool editLogRecord(const otlp::MessageEdit&, const otlp::MessageEdit&,
                     otlp::MessageEdit& record) override {
    otlp::AttributeList& attributes = record.attributes();
    redactor_.redactAttributes(attributes);
    if (record.has(otlp::fields::kLogBody)) {
      otlp::Value body;
      // A body that does not decode is left as it is (receivers validated it; this is rare).
      if (otlp::decodeValue(record.lengthDelimited(otlp::fields::kLogBody), body) &&
          redactor_.redactBody(body, attributes)) {
        std::string encoded;
        otlp::encodeValue(body, encoded);
        record.setLengthDelimited(otlp::fields::kLogBody, encoded);
      }
    }
    return true;
  }

 private:
  const Redactor& redactor_;
};

class MetricsRedaction final : public otlp::MetricsEditor {
 public:
  explicit MetricsRedaction(const Redactor& redactor) : redactor_(redactor) {}
  otlp::EditDepth depth() const override { return otlp::EditDepth::kSubItem; }
  bool editDataPoint(const otlp::MessageEdit&, const otlp::MessageEdit&, const otlp::MessageEdit&,
                     otlp::MetricType, otlp::MessageEdit& point) override {
    redactor_.redactAttributes(point.attributes());
    return true;
  }

 private:
  const Redactor& redactor_;
};

class RedactionProcessor final : public EditingProcessor {
 public:
  // Edits every batch, drops none: the next consumer's refusal is its answer.
  bool passesBackpressure() const override { return true; }
  RedactionProcessor(const pipeline::CreateSettings& settings, pipeline::Signal signal,
                     std::shared_ptr<pipeline::Consumer> next, std::unique_ptr<Redactor> redactor)
      : EditingProcessor(settings, signal, std::move(next)), redactor_(std::move(redactor)) {}

 protected:
  bool editsInOneWalk() const override { return true; }
  std::unique_ptr<BatchEdit> beginEdit() override {
    switch (signal()) {
      case pipeline::Signal::kTraces:
        return std::make_unique<BatchEditOf<TracesRedaction>>(*redactor_);
      case pipeline::Signal::kLogs:
        return std::make_unique<BatchEditOf<LogsRedaction>>(*redactor_);
      case pipeline::Signal::kMetrics:
        return std::make_unique<BatchEditOf<MetricsRedaction>>(*redactor_);
    }
    return nullptr;
  }

 private:
  std::unique_ptr<Redactor> redactor_;
};

class RedactionFactory final : public pipeline::ProcessorFactory {
 public:
  std::string_view type() const override { return "redaction"; }
  bool supports(pipeline::Signal) const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Processor>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config, pipeline::Signal signal,
      std::shared_ptr<pipeline::Consumer> next) const override {
    RedactionConfig cfg;
    cfg.allow_all_keys = config.getBool("allow_all_keys", false);
    cfg.allowed_keys = config.getStringList("allowed_keys");
    cfg.ignored_keys = config.getStringList("ignored_keys");
    cfg.ignored_key_patterns = config.getStringList("ignored_key_patterns");
    cfg.blocked_key_patterns = config.getStringList("blocked_key_patterns");
    cfg.blocked_values = config.getStringList("blocked_values");
    cfg.allowed_values = config.getStringList("allowed_values");
    cfg.redact_all_types = config.getBool("redact_all_types", false);
    const std::string hash = config.getString("hash_function", "");
    if (hash == "md5") {
      cfg.hash_function = HashFunction::kMd5;
    } else if (hash == "sha1") {
      cfg.hash_function = HashFunction::kSha1;
    } else if (hash == "sha3") {
      cfg.hash_function = HashFunction::kSha3;
    } else if (!hash.empty()) {
      config.addError("hash_function", strCat("'", hash, "' is not md5, sha1 or sha3"));
    }
    const std::string summary = config.getString("summary", "silent");
    if (summary == "debug") {
      cfg.summary = Summary::kDebug;
    } else if (summary == "info") {
      cfg.summary = Summary::kInfo;
    } else if (summary != "silent" && !summary.empty()) {
      config.addError("summary", strCat("'", summary, "' is not debug, info or silent"));
    }
    config.rejectUnknownKeys();
    // Each list is compiled on its own so that an error names the key it came from.
    for (const auto& [key, patterns] :
         {std::pair{"ignored_key_patterns", &cfg.ignored_key_patterns},
          std::pair{"blocked_key_patterns", &cfg.blocked_key_patterns},
          std::pair{"blocked_values", &cfg.blocked_values},
          std::pair{"allowed_values", &cfg.allowed_values}}) {
      if (absl::StatusOr<std::unique_ptr<PatternList>> list = PatternList::compile(*patterns);
          !list.ok()) {
        config.addError(key, std::string(list.status().message()));
        patterns->clear();
      }
    }
    absl::StatusOr<std::unique_ptr<Redactor>> redactor = Redactor::create(cfg);
    if (!redactor.ok()) return redactor.status();
    return std::make_unique<RedactionProcessor>(settings, signal, std::move(next),
                                                *std::move(redactor));
  }
};

}  // namespace

std::unique_ptr<pipeline::ProcessorFactory> makeRedactionFactory() {
  return std::make_unique<RedactionFactory>();
}

}  // namespace otlpd::processors::redaction
