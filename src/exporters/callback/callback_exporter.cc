#include "exporters/callback/callback_exporter.h"

#include "common/strings.h"
#include "exporters/helper/dead_letter.h"
#include "exporters/helper/queued_exporter.h"
#include "pipeline/batch_json.h"

namespace otlpd::exporters::callback {
namespace {

using pipeline::Signal;

class CallbackSender final : public helper::Sender {
 public:
  CallbackSender(std::string id, CallbackFunction function, bool json)
      : id_(std::move(id)), function_(std::move(function)), json_(json) {}

  // The timeout is not enforced: the function runs on the helper's consumer thread, and a
  // function that blocks holds only that consumer.
  helper::SendResult send(const pipeline::Batch& batch, absl::Duration) override {
    helper::SendResult result;
    std::string encoded;
    std::string_view data;
    if (json_) {
      pipeline::appendBatchJson(batch, encoded);
      data = encoded;
    } else if (auto wire = batch.wireBytes()) {
      data = *wire;  // the bytes as received: nothing re-encoded
    } else {
      encoded = helper::encodeBatch(batch);
      data = encoded;
    }
    result.status = function_(batch.signal(), json_, data);
    return result;
  }
  std::string destination() const override { return strCat("callback://", id_); }

 private:
  std::string id_;
  CallbackFunction function_;
  bool json_;
};

class CallbackExporterFactory final : public pipeline::ExporterFactory {
 public:
  explicit CallbackExporterFactory(std::shared_ptr<const CallbackDirectory> callbacks)
      : callbacks_(std::move(callbacks)) {}
  std::string_view type() const override { return "callback"; }
  bool queuesInternally() const override { return true; }  // the exporter helper's queue
  bool supports(Signal) const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Exporter>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      Signal signal) const override {
    const std::string encoding = config.getString("encoding", "proto");
    if (encoding != "proto" && encoding != "json") {
      config.addError("encoding", "must be proto or json");
    }
    helper::HelperConfig helper_config = helper::parseHelperConfig(config);
    const std::string id = settings.id.toString();
    auto found = callbacks_ ? callbacks_->find(id) : CallbackDirectory::const_iterator();
    if (!callbacks_ || found == callbacks_->end()) {
      return absl::InvalidArgumentError(
          strCat("no callback function is registered for exporter '", id,
                 "': the embedding program passes one under this id"));
    }
    CallbackFunction function = found->second;
    const bool json = encoding == "json";
    auto factory = [id, function, json]() -> absl::StatusOr<std::shared_ptr<helper::Sender>> {
      return std::make_shared<CallbackSender>(id, function, json);
    };
    return helper::makeQueuedExporter(settings, signal, helper_config, std::move(factory));
  }

 private:
  std::shared_ptr<const CallbackDirectory> callbacks_;
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> makeCallbackExporterFactory(
    std::shared_ptr<const CallbackDirectory> callbacks) {
  return std::make_unique<CallbackExporterFactory>(std::move(callbacks));
}

}  // namespace otlpd::exporters::callback
