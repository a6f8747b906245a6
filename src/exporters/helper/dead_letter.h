// The dead-letter queue: data the exporter acknowledged upstream but can never deliver (the
// destination refused it permanently, retries ran out, the queue overflowed) is kept on disk with
// why, when and where it was going, so that nothing acknowledged disappears silently.
//
// One file per dead letter, written to a temp name and renamed, so a reader never sees half of
// one: a first line of JSON (the header), then the request as OTLP protobuf bytes.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pipeline/batch.h"

namespace otlpd::exporters::helper {

struct DeadLetterHeader {
  absl::Time time;
  std::string exporter;
  std::string destination;
  pipeline::Signal signal = pipeline::Signal::kTraces;
  std::string reason;
  int64_t items = 0;
  // Set for partial-success rejections: the destination took the rest of this request, so a
  // replay would duplicate it.
  bool partial = false;
};

class DeadLetterWriter {
 public:
  // Creates the directory if needed and counts what it already holds toward `max_bytes`.
  static absl::StatusOr<std::unique_ptr<DeadLetterWriter>> open(std::string directory,
                                                                int64_t max_bytes);
  // ResourceExhausted when the directory is full (the caller counts and logs the loss).
  absl::Status write(const DeadLetterHeader& header, const pipeline::Batch& batch);
  const std::string& directory() const { return directory_; }

 private:
  DeadLetterWriter(std::string directory, int64_t max_bytes, int64_t used)
      : directory_(std::move(directory)), max_bytes_(max_bytes), used_bytes_(used) {}

  std::string directory_;
  int64_t max_bytes_;
  std::mutex mu_;
  int64_t used_bytes_;
  uint64_t seq_ = 0;
};

struct DeadLetter {
  std::string path;
  DeadLetterHeader header;
  int64_t file_bytes = 0;
  std::string payload;  // OTLP protobuf request
};

// Dead letters of `directory` in the order they were written; `with_payload` false reads headers
// only. Files that do not parse are skipped and named in `*unreadable`.
absl::StatusOr<std::vector<DeadLetter>> listDeadLetters(const std::string& directory,
                                                        bool with_payload,
                                                        std::vector<std::string>* unreadable);

// The request a dead letter holds, decoded.
absl::StatusOr<pipeline::Batch> decodeDeadLetter(const DeadLetter& letter);

// Encodes and decodes the OTLP protobuf bytes of a batch (shared with the persistent queue).
std::string encodeBatch(const pipeline::Batch& batch);
absl::StatusOr<pipeline::Batch> decodeBatch(pipeline::Signal signal, std::string_view bytes);

}  // namespace otlpd::exporters::helper
