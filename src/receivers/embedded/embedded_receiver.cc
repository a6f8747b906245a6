#include "receivers/embedded/embedded_receiver.h"

#include <algorithm>
#include <shared_mutex>

#include "common/strings.h"
#include "otlp/json_wire.h"
#include "otlp/proto.h"
#include "pipeline/batch_json.h"

namespace otlpd::receivers::embedded {

using otlp::Encoding;
using otlp::ExportOutcome;
using otlp::Transport;
using pipeline::Signal;

// A running receiver as the ingress sees it: calls in flight hold `mu_` shared, so shutdown
// (exclusive) waits for them and no call reaches a pipeline that is stopping.
class EmbeddedIngress::Endpoint {
 public:
  explicit Endpoint(std::shared_ptr<otlp::Ingestor> ingestor) : ingestor_(std::move(ingestor)) {}

  ExportOutcome exportRequest(Signal signal, std::string&& data, bool json, bool* running,
                              std::shared_ptr<const pipeline::RequestMetadata> metadata) {
    std::shared_lock lock(mu_);
    *running = !stopped_;
    if (stopped_) return {};
    ExportOutcome out;
    if (!ingestor_->serves(signal)) {
      out.kind = ExportOutcome::Kind::kBadRequest;
      out.message = strCat("no pipeline takes ", pipeline::signalName(signal),
                           " from this embedded receiver");
      return out;
    }
    const size_t size = data.size();
    if (json) {
      // JSON is decoded straight into wire bytes, which take the protobuf path; the text itself
      // is not kept.
      std::string decoded;
      absl::Status status = ::otlpd::otlp::otlpJsonToWire(pipeline::exportRequestDescriptor(signal),
                                                          data, data.capacity(), decoded);
      if (!status.ok()) {
        return ingestor_->exportRequest(
            signal, Transport::kEmbedded, Encoding::kProtobuf, size,
            [&](google::protobuf::Message&) { return status; }, std::nullopt, std::nullopt,
            std::move(metadata));
      }
      std::string().swap(data);
      data = std::move(decoded);
    }
    pipeline::WireBytes wire = pipeline::WireBytes::fromString(std::move(data));
    const std::string_view bytes = wire.bytes;
    return ingestor_->exportRequest(
        signal, Transport::kEmbedded, Encoding::kProtobuf, size,
        [bytes](google::protobuf::Message& m) {
          if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
              !m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            return absl::InvalidArgumentError("request is not a valid OTLP protobuf message");
          }
          return absl::OkStatus();
        },
        std::nullopt, std::move(wire), std::move(metadata));
  }

  void stop() {
    std::unique_lock lock(mu_);
    stopped_ = true;
  }

 private:
  std::shared_ptr<otlp::Ingestor> ingestor_;
  std::shared_mutex mu_;
  bool stopped_ = false;
};

ExportOutcome EmbeddedIngress::exportRequest(
    Signal signal, std::string_view receiver_id, std::string&& data, bool json, bool* found,
    std::shared_ptr<const pipeline::RequestMetadata> metadata) const {
  std::shared_ptr<Endpoint> endpoint;
  {
    std::lock_guard lock(mu_);
    if (receiver_id.empty()) {
      // The only one the embedder can mean: otlpd's own telemetry receivers do not count.
      size_t candidates = 0;
      for (const auto& [id, e] : endpoints_) {
        if (std::find(self_telemetry_receivers_.begin(), self_telemetry_receivers_.end(), id) !=
            self_telemetry_receivers_.end()) {
          continue;
        }
        ++candidates;
        endpoint = e;
      }
      if (candidates != 1) endpoint.reset();
    } else if (auto it = endpoints_.find(receiver_id); it != endpoints_.end()) {
      endpoint = it->second;
    }
  }
  *found = false;
  if (!endpoint) return {};
  ExportOutcome out =
      endpoint->exportRequest(signal, std::move(data), json, found, std::move(metadata));
  return out;
}

void EmbeddedIngress::setSelfTelemetryReceivers(std::vector<std::string> ids) {
  std::lock_guard lock(mu_);
  self_telemetry_receivers_ = std::move(ids);
}

void EmbeddedIngress::attach(const std::string& id, std::shared_ptr<Endpoint> endpoint) {
  std::lock_guard lock(mu_);
  endpoints_[id] = std::move(endpoint);
}

void EmbeddedIngress::detach(const std::string& id, const Endpoint* endpoint) {
  std::lock_guard lock(mu_);
  if (auto it = endpoints_.find(id); it != endpoints_.end() && it->second.get() == endpoint) {
    endpoints_.erase(it);
  }
}

namespace {

class EmbeddedReceiver final : public pipeline::Receiver {
 public:
  EmbeddedReceiver(std::string id, std::shared_ptr<EmbeddedIngress> ingress,
                   std::shared_ptr<otlp::Ingestor> ingestor)
      : id_(std::move(id)),
        ingress_(std::move(ingress)),
        endpoint_(std::make_shared<EmbeddedIngress::Endpoint>(std::move(ingestor))) {}

  absl::Status start(pipeline::Host&) override {
    ingress_->attach(id_, endpoint_);
    return absl::OkStatus();
  }
  absl::Status shutdown() override {
    ingress_->detach(id_, endpoint_.get());
    endpoint_->stop();  // waits for calls in flight
    return absl::OkStatus();
  }

 private:
  std::string id_;
  std::shared_ptr<EmbeddedIngress> ingress_;
  std::shared_ptr<EmbeddedIngress::Endpoint> endpoint_;
};

class EmbeddedReceiverFactory final : public pipeline::ReceiverFactory {
 public:
  explicit EmbeddedReceiverFactory(std::shared_ptr<EmbeddedIngress> ingress)
      : ingress_(std::move(ingress)) {}
  std::string_view type() const override { return "embedded"; }
  bool supports(Signal) const override { return true; }
  absl::StatusOr<std::unique_ptr<pipeline::Receiver>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      pipeline::SignalConsumers next) const override {
    (void)config;  // nothing to configure: no port, no protocol (the graph rejects any key)
    const std::string id = settings.id.toString();
    auto ingestor =
        std::make_shared<otlp::Ingestor>(id, std::move(next), settings.metrics, settings.memory,
                                         std::initializer_list<Transport>{Transport::kEmbedded});
    return std::make_unique<EmbeddedReceiver>(id, ingress_, std::move(ingestor));
  }

 private:
  std::shared_ptr<EmbeddedIngress> ingress_;
};

}  // namespace

std::unique_ptr<pipeline::ReceiverFactory> makeEmbeddedReceiverFactory(
    std::shared_ptr<EmbeddedIngress> ingress) {
  return std::make_unique<EmbeddedReceiverFactory>(std::move(ingress));
}

}  // namespace otlpd::receivers::embedded
