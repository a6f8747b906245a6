// The `embedded` receiver: telemetry handed over by the program that embeds otlpd (the library's
// exportTraces/Metrics/Logs) instead of read from a socket. It opens no port. Requests go through
// the same Ingestor as OTLP's (memory budget, wire view, validation with partial success,
// counters with transport="embedded"), so embedded and received data are treated alike.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/factory.h"
#include "receivers/otlp/ingest.h"

namespace otlpd::receivers::embedded {

// How the embedder's call went: the OTLP client's view (accepted with an encoded partial-success
// body, refused for bad data, refused for now).
using Outcome = otlp::ExportOutcome;

// One per embedding (per library Collector): the running `embedded` receivers by id, so that an
// export call finds the receiver of the running graph. Reloads swap the receivers under it.
class EmbeddedIngress {
 public:
  // `receiver_id` empty: the only running embedded receiver. Encoded OTLP (`json` false) or
  // OTLP/JSON. Found: `*found` true; otherwise nothing was done. `metadata` goes with the batch
  // (otlpd's own telemetry carries pipeline::selfTelemetryMetadata()).
  Outcome exportRequest(pipeline::Signal signal, std::string_view receiver_id, std::string&& data,
                        bool json, bool* found,
                        std::shared_ptr<const pipeline::RequestMetadata> metadata = nullptr) const;

  // Receivers that otlpd's own telemetry enters by (service.telemetry): an export call without a
  // receiver id never picks them, so an embedder's data does not land in the self pipelines.
  void setSelfTelemetryReceivers(std::vector<std::string> ids);

  class Endpoint;
  void attach(const std::string& id, std::shared_ptr<Endpoint> endpoint);
  void detach(const std::string& id, const Endpoint* endpoint);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Endpoint>, std::less<>> endpoints_;
  std::vector<std::string> self_telemetry_receivers_;
};

std::unique_ptr<pipeline::ReceiverFactory> makeEmbeddedReceiverFactory(
    std::shared_ptr<EmbeddedIngress> ingress);

}  // namespace otlpd::receivers::embedded
