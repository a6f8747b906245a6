#include "exporters/helper/dead_letter.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json_escape.h"
#include "common/simdjson.h"
#include "common/strings.h"

namespace otlpd::exporters::helper {
namespace {

namespace fs = std::filesystem;
using common::appendJsonString;
constexpr std::string_view kSuffix = ".dlq";

absl::Status writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(strCat("write failed: ", std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

std::string encodeBatch(const pipeline::Batch& batch) {
  if (auto wire = batch.wireBytes()) return std::string(*wire);
  return batch.request().SerializeAsString();
}

absl::StatusOr<pipeline::Batch> decodeBatch(pipeline::Signal signal, std::string_view bytes) {
  pipeline::Batch batch = pipeline::Batch::create(signal);
  if (!batch.mutableRequest().ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("stored request does not parse as OTLP protobuf");
  }
  return batch;
}

absl::StatusOr<std::unique_ptr<DeadLetterWriter>> DeadLetterWriter::open(std::string directory,
                                                                         int64_t max_bytes) {
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) {
    return absl::UnavailableError(
        strCat("cannot create dead-letter directory ", directory, ": ", ec.message()));
  }
  int64_t used = 0;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    if (entry.is_regular_file(ec)) used += static_cast<int64_t>(entry.file_size(ec));
  }
  return std::unique_ptr<DeadLetterWriter>(
      new DeadLetterWriter(std::move(directory), max_bytes, used));
}

absl::Status DeadLetterWriter::write(const DeadLetterHeader& h, const pipeline::Batch& batch) {
  std::string body =
      strCat("{\"time\":\"", absl::FormatTime(absl::RFC3339_full, h.time, absl::UTCTimeZone()),
             "\",\"exporter\":");
  appendJsonString(body, h.exporter);
  body += ",\"destination\":";
  appendJsonString(body, h.destination);
  strAppend(&body, ",\"signal\":\"", pipeline::signalName(h.signal), "\",\"items\":", h.items,
            ",\"partial\":", h.partial ? "true" : "false", ",\"reason\":");
  appendJsonString(body, h.reason);
  body += "}\n";
  body += encodeBatch(batch);

  std::lock_guard lock(mu_);
  if (used_bytes_ + static_cast<int64_t>(body.size()) > max_bytes_) {
    return absl::ResourceExhaustedError(
        strCat("dead-letter directory ", directory_, " is full (", max_bytes_, " bytes)"));
  }
  // Names sort in write order: time first, then a sequence for letters of the same instant.
  char name[96];
  std::snprintf(name, sizeof(name), "%020lld-%06d-%06llu",
                static_cast<long long>(absl::ToUnixNanos(h.time)), static_cast<int>(::getpid()),
                static_cast<unsigned long long>(seq_++ % 1000000));
  const std::string final_path =
      strCat(directory_, "/", name, "-", pipeline::signalName(h.signal), kSuffix);
  const std::string tmp_path = final_path + ".tmp";
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return absl::UnavailableError(strCat("cannot create ", tmp_path, ": ", std::strerror(errno)));
  absl::Status s = writeAll(fd, body);
  if (s.ok() && ::fsync(fd) != 0)
    s = absl::UnavailableError(strCat("fsync failed: ", std::strerror(errno)));
  ::close(fd);
  if (s.ok() && ::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    s = absl::UnavailableError(strCat("rename failed: ", std::strerror(errno)));
  }
  if (!s.ok()) {
    ::unlink(tmp_path.c_str());
    return s;
  }
  used_bytes_ += static_cast<int64_t>(body.size());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DeadLetter>> listDeadLetters(const std::string& directory,
                                                        bool with_payload,
                                                        std::vector<std::string>* unreadable) {
  std::error_code ec;
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    const std::string p = entry.path().string();
    if (entry.is_regular_file() && p.ends_with(kSuffix)) paths.push_back(p);
  }
  if (ec) return absl::NotFoundError(strCat("cannot read ", directory, ": ", ec.message()));
  std::sort(paths.begin(), paths.end());

  std::vector<DeadLetter> out;
  simdjson::dom::parser parser;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t nl = content.find('\n');
    DeadLetter letter;
    letter.path = path;
    letter.file_bytes = static_cast<int64_t>(content.size());
    bool ok = nl != std::string::npos;
    if (ok) {
      simdjson::dom::element doc;
      simdjson::padded_string json(content.data(), nl);
      ok = parser.parse(json).get(doc) == simdjson::SUCCESS;
      std::string_view time, exporter, destination, signal, reason;
      int64_t items = 0;
      bool partial = false;
      ok = ok && doc["time"].get(time) == simdjson::SUCCESS &&
           doc["exporter"].get(exporter) == simdjson::SUCCESS &&
           doc["destination"].get(destination) == simdjson::SUCCESS &&
           doc["signal"].get(signal) == simdjson::SUCCESS &&
           doc["reason"].get(reason) == simdjson::SUCCESS &&
           doc["items"].get(items) == simdjson::SUCCESS &&
           doc["partial"].get(partial) == simdjson::SUCCESS;
      std::optional<pipeline::Signal> sig = ok ? pipeline::parseSignal(signal) : std::nullopt;
      std::string err;
      ok = ok && sig.has_value() &&
           absl::ParseTime(absl::RFC3339_full, toAbsl(time), &letter.header.time, &err);
      if (ok) {
        letter.header.exporter = std::string(exporter);
        letter.header.destination = std::string(destination);
        letter.header.signal = *sig;
        letter.header.reason = std::string(reason);
        letter.header.items = items;
        letter.header.partial = partial;
        if (with_payload) letter.payload = content.substr(nl + 1);
      }
    }
    if (!ok) {
      if (unreadable != nullptr) unreadable->push_back(path);
      continue;
    }
    out.push_back(std::move(letter));
  }
  return out;
}

absl::StatusOr<pipeline::Batch> decodeDeadLetter(const DeadLetter& letter) {
  return decodeBatch(letter.header.signal, letter.payload);
}

}  // namespace otlpd::exporters::helper
