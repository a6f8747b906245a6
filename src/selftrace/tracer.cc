#include "selftrace/tracer.h"

#include <random>

#include "common/logging.h"
#include "otlp/proto.h"

namespace otlpd::selftrace {
namespace {

namespace v1 = ::opentelemetry::proto::trace::v1;

thread_local const SpanContext* t_current = nullptr;

uint64_t nowUnixNano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::mt19937_64& rng() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

template <size_t N>
void randomId(std::array<uint8_t, N>& id) {
  do {
    for (size_t i = 0; i < N; i += 8) {
      const uint64_t r = rng()();
      for (size_t j = 0; j < 8 && i + j < N; ++j) id[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
  } while (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; }));
}

void setLogIds(const SpanContext* context) {
  if (context == nullptr) {
    logging::setThreadTraceIds({}, {});
    return;
  }
  logging::setThreadTraceIds(toHex(context->trace_id.data(), 16),
                             toHex(context->span_id.data(), 8));
}

}  // namespace

std::atomic<Tracer*> Tracer::installed_{nullptr};

std::string encodeSpans(const std::vector<SpanData>& spans, std::string_view service_version) {
  otlp::TracesRequest request;
  auto* rs = request.add_resource_spans();
  auto* attr = rs->mutable_resource()->add_attributes();
  attr->set_key("service.name");
  attr->mutable_value()->set_string_value("otlpd");
  attr = rs->mutable_resource()->add_attributes();
  attr->set_key("service.version");
  attr->mutable_value()->set_string_value(std::string(service_version));
  auto* scope = rs->add_scope_spans();
  scope->mutable_scope()->set_name("otlpd");
  scope->mutable_scope()->set_version(std::string(service_version));
  for (const SpanData& s : spans) {
    v1::Span* span = scope->add_spans();
    span->set_trace_id(s.context.trace_id.data(), 16);
    span->set_span_id(s.context.span_id.data(), 8);
    if (s.parent_span_id) span->set_parent_span_id(s.parent_span_id->data(), 8);
    span->set_trace_state(s.context.trace_state);
    span->set_flags(s.context.flags);
    span->set_name(s.name);
    span->set_kind(static_cast<v1::Span::SpanKind>(s.kind));
    span->set_start_time_unix_nano(s.start_unix_nano);
    span->set_end_time_unix_nano(s.end_unix_nano);
    for (const auto& [key, value] : s.attributes) {
      auto* kv = span->add_attributes();
      kv->set_key(key);
      if (const auto* str = std::get_if<std::string>(&value)) {
        kv->mutable_value()->set_string_value(*str);
      } else if (const auto* i = std::get_if<int64_t>(&value)) {
        kv->mutable_value()->set_int_value(*i);
      } else {
        kv->mutable_value()->set_bool_value(std::get<bool>(value));
      }
    }
    if (s.error) {
      span->mutable_status()->set_code(v1::Status::STATUS_CODE_ERROR);
      span->mutable_status()->set_message(s.status_message);
    }
  }
  return request.SerializeAsString();
}

Tracer::Tracer(TracerOptions options, common::MetricsRegistry& metrics)
    : options_(std::move(options)) {
  auto counter = [&](const char* outcome) {
    return &metrics.counter("otlpd_selftrace_spans_total",
                            "otlpd's own spans (service.telemetry.traces) by what became of them: "
                            "exported, dropped (queue full) or lost (export failed).",
                            {{"outcome", outcome}});
  };
  exported_ = counter("exported");
  dropped_full_ = counter("dropped");
  export_failed_ = counter("failed");
  thread_ = std::thread([this] { exportLoop(); });
}

Tracer::~Tracer() {
  if (installed() == this) install(nullptr);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

SpanContext Tracer::newContext(const SpanContext* parent) {
  SpanContext context;
  if (parent != nullptr) {
    context.trace_id = parent->trace_id;
    context.flags = parent->flags;
    context.trace_state = parent->trace_state;
  } else {
    randomId(context.trace_id);
    const bool sampled =
        options_.sampling_ratio >= 1.0 ||
        (options_.sampling_ratio > 0 &&
         std::uniform_real_distribution<double>(0, 1)(rng()) < options_.sampling_ratio);
    context.flags = sampled ? 0x01 : 0x00;
  }
  randomId(context.span_id);
  return context;
}

void Tracer::finish(SpanData&& span) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.max_queued_spans) {
      dropped_full_->add();
      return;
    }
    queue_.push_back(std::move(span));
    if (queue_.size() < options_.max_export_batch) return;
  }
  cv_.notify_one();
}

void Tracer::exportLoop() {
  for (;;) {
    std::vector<SpanData> batch;
    bool stopping;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.export_interval,
                   [&] { return stopping_ || queue_.size() >= options_.max_export_batch; });
      stopping = stopping_;
      while (!queue_.empty() && batch.size() < options_.max_export_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!batch.empty()) {
      // The export itself is never traced: this thread has no current span.
      absl::Status s =
          options_.send ? options_.send(encodeSpans(batch, OTLPD_VERSION)) : absl::OkStatus();
      if (s.ok()) {
        exported_->add(batch.size());
      } else {
        export_failed_->add(batch.size());
        logging::debug("self-trace export failed", {{"error", s}, {"spans", batch.size()}});
      }
    }
    if (stopping) {
      std::lock_guard lock(mu_);
      if (queue_.empty()) return;
    }
  }
}

// --- ScopedSpan ------------------------------------------------------------------------------

ScopedSpan ScopedSpan::server(
    std::string_view name,
    absl::FunctionRef<std::optional<std::string_view>(std::string_view)> header) {
  ScopedSpan span;
  Tracer* tracer = Tracer::installed();
  if (tracer == nullptr) return span;
  const std::optional<std::string_view> traceparent = header("traceparent");
  const std::optional<std::string_view> tracestate = header("tracestate");
  std::optional<SpanContext> remote;
  if (traceparent) remote = parseTraceparent(*traceparent);
  if (remote && tracestate) {
    if (auto ts = parseTracestate(*tracestate)) remote->trace_state = limitTracestate(*ts);
  }
  const SpanContext* parent = remote ? &*remote : t_current;
  SpanContext context = tracer->newContext(parent);
  span.tracer_ = tracer;
  span.data_ = std::make_unique<SpanData>();
  span.data_->context = std::move(context);
  if (parent != nullptr) span.data_->parent_span_id = parent->span_id;
  span.data_->name = std::string(name);
  span.data_->kind = SpanKind::kServer;
  span.data_->start_unix_nano = nowUnixNano();
  span.activate();
  return span;
}

ScopedSpan ScopedSpan::child(std::string_view name, SpanKind kind) {
  ScopedSpan span;
  Tracer* tracer = Tracer::installed();
  if (tracer == nullptr) return span;
  const SpanContext* parent = t_current;
  span.tracer_ = tracer;
  span.data_ = std::make_unique<SpanData>();
  span.data_->context = tracer->newContext(parent);
  if (parent != nullptr) span.data_->parent_span_id = parent->span_id;
  span.data_->name = std::string(name);
  span.data_->kind = kind;
  span.data_->start_unix_nano = nowUnixNano();
  span.activate();
  return span;
}

ScopedSpan ScopedSpan::detail(std::string_view name) {
  Tracer* tracer = Tracer::installed();
  if (tracer == nullptr || !tracer->detailed() || t_current == nullptr || !t_current->sampled()) {
    return ScopedSpan();
  }
  return child(name);
}

void ScopedSpan::activate() {
  previous_ = t_current;
  t_current = &data_->context;
  active_ = true;
  // Only sampled spans are written anywhere: log lines name them only then.
  setLogIds(data_->context.sampled() ? &data_->context : nullptr);
}

ScopedSpan::ScopedSpan(ScopedSpan&& other) noexcept
    : tracer_(other.tracer_),
      data_(std::move(other.data_)),
      previous_(other.previous_),
      active_(other.active_) {
  // The context lives on the heap (data_), so the thread's pointer to it stays valid.
  other.tracer_ = nullptr;
  other.active_ = false;
}

ScopedSpan::~ScopedSpan() {
  if (!active_ || data_ == nullptr) return;
  t_current = previous_;
  setLogIds(previous_ != nullptr && previous_->sampled() ? previous_ : nullptr);
  if (!data_->context.sampled()) return;
  data_->end_unix_nano = nowUnixNano();
  tracer_->finish(std::move(*data_));
}

const SpanContext* ScopedSpan::current() {
  return t_current;
}

std::string ScopedSpan::traceparent() const {
  return data_ ? formatTraceparent(data_->context) : std::string();
}

const std::string& ScopedSpan::tracestate() const {
  static const std::string kEmpty;
  return data_ ? data_->context.trace_state : kEmpty;
}

void ScopedSpan::setAttribute(std::string key, std::string value) {
  if (data_) data_->attributes.emplace_back(std::move(key), std::move(value));
}

void ScopedSpan::setAttribute(std::string key, int64_t value) {
  if (data_) data_->attributes.emplace_back(std::move(key), value);
}

void ScopedSpan::setError(std::string message) {
  if (!data_) return;
  data_->error = true;
  data_->status_message = std::move(message);
}

}  // namespace otlpd::selftrace
