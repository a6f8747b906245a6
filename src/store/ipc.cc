#include "store/ipc.h"

#include <lz4frame.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "common/string_buffer.h"
#include "common/strings.h"
#include "store/arrow_fbs.h"

namespace otlpd::store {
namespace {

constexpr uint32_t kContinuation = 0xFFFFFFFFu;
constexpr size_t kAlign = 8;

size_t padded(size_t n) {
  return (n + kAlign - 1) & ~(kAlign - 1);
}

void pad(std::string& out) {
  out.append(padded(out.size()) - out.size(), '\0');
}

template <class T>
void appendLe(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

using FbOffsetField = flatbuffers::Offset<fb::Field>;
using FbKeyValues = flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::KeyValue>>>;

FbKeyValues buildKeyValues(flatbuffers::FlatBufferBuilder& b, const KeyValues& kvs) {
  std::vector<flatbuffers::Offset<fb::KeyValue>> v;
  v.reserve(kvs.size());
  for (const auto& [k, val] : kvs) {
    v.push_back(fb::CreateKeyValue(b, b.CreateString(k), b.CreateString(val)));
  }
  return b.CreateVector(v);
}

FbOffsetField buildField(flatbuffers::FlatBufferBuilder& b, const FieldSpec& f,
                         int64_t& next_dict) {
  std::vector<FbOffsetField> children;
  for (const FieldSpec& c : f.children) children.push_back(buildField(b, c, next_dict));
  fb::Type type_type = fb::Type::NONE;
  flatbuffers::Offset<void> type;
  auto intType = [&](int bits, bool is_signed) {
    type_type = fb::Type::Int;
    type = fb::CreateInt(b, bits, is_signed).Union();
  };
  switch (f.type) {
    case ColumnType::kBool:
      type_type = fb::Type::Bool;
      type = fb::CreateBool(b).Union();
      break;
    case ColumnType::kInt8:
      intType(8, true);
      break;
    case ColumnType::kUInt8:
      intType(8, false);
      break;
    case ColumnType::kInt32:
      intType(32, true);
      break;
    case ColumnType::kUInt32:
      intType(32, false);
      break;
    case ColumnType::kInt64:
      intType(64, true);
      break;
    case ColumnType::kUInt64:
      intType(64, false);
      break;
    case ColumnType::kFloat64:
      type_type = fb::Type::FloatingPoint;
      type = fb::CreateFloatingPoint(b, fb::Precision::DOUBLE).Union();
      break;
    case ColumnType::kTimestampNs:
      type_type = fb::Type::Timestamp;
      type = fb::CreateTimestamp(b, fb::TimeUnit::NANOSECOND, b.CreateString("UTC")).Union();
      break;
    case ColumnType::kDurationNs:
      type_type = fb::Type::Duration;
      type = fb::CreateDuration(b, fb::TimeUnit::NANOSECOND).Union();
      break;
    case ColumnType::kUtf8:
      type_type = fb::Type::Utf8;
      type = fb::CreateUtf8(b).Union();
      break;
    case ColumnType::kBinary:
      type_type = fb::Type::Binary;
      type = fb::CreateBinary(b).Union();
      break;
    case ColumnType::kFixedBinary:
      type_type = fb::Type::FixedSizeBinary;
      type = fb::CreateFixedSizeBinary(b, f.byte_width).Union();
      break;
    case ColumnType::kList:
      type_type = fb::Type::List;
      type = fb::CreateList(b).Union();
      break;
    case ColumnType::kStruct:
      type_type = fb::Type::Struct_;
      type = fb::CreateStruct_(b).Union();
      break;
  }
  flatbuffers::Offset<fb::DictionaryEncoding> dict;
  if (f.dictionary) {
    dict = fb::CreateDictionaryEncoding(b, next_dict++, fb::CreateInt(b, 32, true), false);
  }
  auto name = b.CreateString(f.name);
  auto kids = b.CreateVector(children);
  return fb::CreateField(b, name, f.nullable, type_type, type, dict, kids);
}

// Frames a finished Message flatbuffer: continuation, padded length, metadata, then the body.
void appendFramed(const flatbuffers::FlatBufferBuilder& b, std::string_view body,
                  std::string& out) {
  const size_t meta = b.GetSize();
  const size_t meta_padded = padded(meta + 8) - 8;
  appendLe(out, kContinuation);
  appendLe(out, static_cast<int32_t>(meta_padded));
  out.append(reinterpret_cast<const char*>(b.GetBufferPointer()), meta);
  out.append(meta_padded - meta, '\0');
  out.append(body);
}

}  // namespace

std::optional<BodyCodec> parseBodyCodec(std::string_view name) {
  if (name == "none") return BodyCodec::kNone;
  if (name == "lz4") return BodyCodec::kLz4Frame;
  if (name == "zstd") return BodyCodec::kZstd;
  return std::nullopt;
}

IpcEncoder::IpcEncoder(const std::vector<FieldSpec>* fields, BodyCodec codec,
                       KeyValues schema_metadata)
    : fields_(fields), codec_(codec), schema_metadata_(std::move(schema_metadata)) {
  if (codec_ == BodyCodec::kZstd) {
    auto* ctx = ZSTD_createCCtx();
    zstd_ = ctx;
    ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, 1);
    // Level 1's table for inputs over 256 KiB is 2^13 entries (32 KiB); half of it stays in L1
    // and compresses a batch's buffers ~10% faster and no larger (BM_StoreZstdPerBufferLoadgen,
    // issue #18).
    ZSTD_CCtx_setParameter(ctx, ZSTD_c_hashLog, 12);
  }
}

IpcEncoder::~IpcEncoder() {
  if (zstd_ != nullptr) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_));
}

void IpcEncoder::appendSchema(std::string& out) const {
  flatbuffers::FlatBufferBuilder b(4096);
  int64_t next_dict = 0;
  std::vector<FbOffsetField> fields;
  for (const FieldSpec& f : *fields_) fields.push_back(buildField(b, f, next_dict));
  auto fv = b.CreateVector(fields);
  auto md = buildKeyValues(b, schema_metadata_);
  std::vector<int64_t> features;
  if (codec_ != BodyCodec::kNone)
    features.push_back(static_cast<int64_t>(fb::Feature::COMPRESSED_BODY));
  auto schema = fb::CreateSchema(
      b, fb::Endianness::Little, fv, md,
      b.CreateVector(reinterpret_cast<const fb::Feature*>(features.data()), features.size()));
  b.Finish(
      fb::CreateMessage(b, fb::MetadataVersion::V5, fb::MessageHeader::Schema, schema.Union(), 0));
  appendFramed(b, {}, out);
}

namespace {

// A message body being laid out. Uncompressed, the buffers are not copied into it: only their
// offsets are computed, and appendMessage() copies each once, straight into the output.
// Compressed, they are compressed into one string first (their sizes are known only then).
struct Body {
  std::vector<std::string_view> raw;  // uncompressed: the buffers, in order
  std::vector<fb::FieldNode> nodes;
  std::vector<fb::Buffer> buffers;
  size_t length = 0;                   // the body's length, padded
  const std::string* bytes = nullptr;  // compressed: the whole body
};

// Frames a finished Message flatbuffer (continuation, padded length, metadata) and its body,
// growing `out` once for the whole message.
void appendMessage(const flatbuffers::FlatBufferBuilder& b, const Body& body, std::string& out) {
  out.reserve(out.size() + 8 + padded(b.GetSize() + 8) + body.length);
  if (body.bytes != nullptr) {
    appendFramed(b, *body.bytes, out);
    return;
  }
  appendFramed(b, {}, out);
  for (std::string_view raw : body.raw) {
    out.append(raw);
    pad(out);
  }
}

}  // namespace

char* IpcEncoder::scratchOf(size_t size) {
  if (size > scratch_size_) {
    scratch_size_ = std::max(size, scratch_size_ * 2);
    scratch_.reset(new char[scratch_size_]);  // uninitialised: the codec writes it
  }
  return scratch_.get();
}

void IpcEncoder::compressInto(std::string_view raw) {
  std::string& body = compressed_;
  // An empty buffer may be written as zero bytes, without the length prefix.
  if (raw.empty()) return;
  size_t n = 0;
  bool ok = false;
  if (codec_ == BodyCodec::kZstd) {
    const size_t bound = ZSTD_compressBound(raw.size());
    n = ZSTD_compress2(static_cast<ZSTD_CCtx*>(zstd_), scratchOf(bound), bound, raw.data(),
                       raw.size());
    ok = !ZSTD_isError(n);
  } else {
    const size_t bound = LZ4F_compressFrameBound(raw.size(), nullptr);
    n = LZ4F_compressFrame(scratchOf(bound), bound, raw.data(), raw.size(), nullptr);
    ok = !LZ4F_isError(n);
  }
  if (ok && n < raw.size()) {
    appendLe(body, static_cast<int64_t>(raw.size()));
    body.append(scratch_.get(), n);
  } else {
    // Incompressible: -1 says the bytes that follow are stored as they are.
    appendLe(body, int64_t{-1});
    body.append(raw);
  }
}

namespace {

void collect(Column& c, std::vector<std::pair<Column*, int>>& out) {
  out.emplace_back(&c, 0);
  for (size_t i = 0; i < c.childCount(); ++i) collect(c.child(i), out);
}

}  // namespace

absl::Status IpcEncoder::appendBatch(ColumnTable& table, const KeyValues& metadata,
                                     std::string& out) {
  auto addBuffer = [this](Body& body, std::string_view raw) {
    if (codec_ == BodyCodec::kNone) {
      body.buffers.emplace_back(static_cast<int64_t>(body.length),
                                static_cast<int64_t>(raw.size()));
      body.raw.push_back(raw);
      body.length = padded(body.length + raw.size());
      return;
    }
    const size_t offset = compressed_.size();
    compressInto(raw);
    body.buffers.emplace_back(static_cast<int64_t>(offset),
                              static_cast<int64_t>(compressed_.size() - offset));
    pad(compressed_);
    body.length = compressed_.size();
    body.bytes = &compressed_;
  };
  auto compression = [this](flatbuffers::FlatBufferBuilder& b) {
    flatbuffers::Offset<fb::BodyCompression> c;
    if (codec_ != BodyCodec::kNone) {
      c = fb::CreateBodyCompression(b, codec_ == BodyCodec::kZstd ? fb::CompressionType::ZSTD
                                                                  : fb::CompressionType::LZ4_FRAME);
    }
    return c;
  };

  // Dictionaries first: a reader must know every value before a batch refers to it.
  auto& dicts = table.dictionaries();
  for (size_t id = 0; id < dicts.size(); ++id) {
    Dictionary& d = *dicts[id];
    if (d.sent && d.emitted == d.size()) continue;
    Body body;
    compressed_.clear();
    const size_t count = d.size() - d.emitted;
    std::string offsets, data;
    offsets.reserve((count + 1) * 4);
    appendLe(offsets, int32_t{0});
    for (size_t i = d.emitted; i < d.size(); ++i) {
      data.append(d.at(i));
      appendLe(offsets, static_cast<int32_t>(data.size()));
    }
    body.nodes.emplace_back(static_cast<int64_t>(count), 0);
    addBuffer(body, {});
    addBuffer(body, offsets);
    addBuffer(body, data);
    flatbuffers::FlatBufferBuilder b(1024);
    auto rb =
        fb::CreateRecordBatch(b, static_cast<int64_t>(count), b.CreateVectorOfStructs(body.nodes),
                              b.CreateVectorOfStructs(body.buffers), compression(b));
    auto db = fb::CreateDictionaryBatch(b, static_cast<int64_t>(id), rb, d.sent);
    b.Finish(fb::CreateMessage(b, fb::MetadataVersion::V5, fb::MessageHeader::DictionaryBatch,
                               db.Union(), static_cast<int64_t>(body.length)));
    appendMessage(b, body, out);
    d.sent = true;
    d.emitted = d.size();
  }

  Body body;
  compressed_.clear();
  std::vector<std::pair<Column*, int>> all;
  for (size_t i = 0; i < table.columnCount(); ++i) collect(table.column(i), all);
  body.nodes.reserve(all.size());
  body.raw.reserve(all.size() * 3);
  body.buffers.reserve(all.size() * 3);
  for (auto& [c, unused] : all) {
    (void)unused;
    body.nodes.emplace_back(static_cast<int64_t>(c->length()),
                            static_cast<int64_t>(c->nullCount()));
    addBuffer(body,
              c->nullCount() == 0 ? std::string_view() : std::string_view(c->validityBuffer()));
    const FieldSpec& s = c->spec();
    if (s.type == ColumnType::kStruct) continue;
    if (s.type == ColumnType::kList) {
      addBuffer(body, c->offsetsBuffer());
    } else if (!s.dictionary && (s.type == ColumnType::kUtf8 || s.type == ColumnType::kBinary)) {
      addBuffer(body, c->offsetsBuffer());
      addBuffer(body, c->dataBuffer());
    } else {
      addBuffer(body, c->valuesBuffer());
    }
  }
  flatbuffers::FlatBufferBuilder b(1024 + all.size() * 48);
  auto rb = fb::CreateRecordBatch(b, static_cast<int64_t>(table.rows()),
                                  b.CreateVectorOfStructs(body.nodes),
                                  b.CreateVectorOfStructs(body.buffers), compression(b));
  auto md = buildKeyValues(b, metadata);
  b.Finish(fb::CreateMessage(b, fb::MetadataVersion::V5, fb::MessageHeader::RecordBatch, rb.Union(),
                             static_cast<int64_t>(body.length), md));
  appendMessage(b, body, out);
  return absl::OkStatus();
}

namespace {

// A declared length within this of the compressed size is decoded in one call into a buffer of
// that length (every buffer our writer makes, bar long runs of one value); a larger one is grown
// as output is produced, so that the memory follows the data and not the claim.
size_t plausibleLength(size_t compressed) {
  return 64 * compressed + 64 * 1024;
}

// One decompression context per thread, reused for every buffer: creating one costs more than
// decoding a small buffer (zstd's probes the CPU with cpuid, which traps to the hypervisor on a
// virtual machine, and allocates ~100 KiB; a file holds dozens of buffers). A context that a large
// frame grew (streaming keeps a window buffer) is dropped after use, so a thread keeps little.
constexpr size_t kKeptContextBytes = 1 << 20;

struct ZstdContextFree {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};
struct Lz4ContextFree {
  void operator()(LZ4F_dctx* ctx) const { LZ4F_freeDecompressionContext(ctx); }
};
thread_local std::unique_ptr<ZSTD_DCtx, ZstdContextFree> t_zstd;
thread_local std::unique_ptr<LZ4F_dctx, Lz4ContextFree> t_lz4;

// The thread's zstd context, with no frame in progress; null if none can be made.
ZSTD_DCtx* zstdContext() {
  if (t_zstd == nullptr) {
    t_zstd.reset(ZSTD_createDCtx());
  } else {
    (void)ZSTD_DCtx_reset(t_zstd.get(), ZSTD_reset_session_only);
  }
  return t_zstd.get();
}

void releaseZstdContext() {
  if (t_zstd != nullptr && ZSTD_sizeof_DCtx(t_zstd.get()) > kKeptContextBytes) t_zstd.reset();
}

// lz4 sizes a context's buffers by the frame's declared block size (up to 4 MiB, plus 128 KiB for
// linked blocks); our writer's frames declare 64 KiB (block size id 4, bits 4-6 of the byte after
// the magic number and the flags).
bool keepsLz4Context(std::string_view frame) {
  return frame.size() > 5 && ((static_cast<uint8_t>(frame[5]) >> 4) & 7) <= 4;
}

// The thread's lz4 frame context, with no frame in progress; null if none can be made.
LZ4F_dctx* lz4Context() {
  if (t_lz4 == nullptr) {
    LZ4F_dctx* ctx = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) return nullptr;
    t_lz4.reset(ctx);
  } else {
    LZ4F_resetDecompressionContext(t_lz4.get());
  }
  return t_lz4.get();
}

template <class Out>
absl::Status corrupt(BodyCodec codec, Out& out) {
  out.clear();
  return absl::InvalidArgumentError(codec == BodyCodec::kZstd ? "corrupt zstd buffer"
                                                              : "corrupt lz4 buffer");
}

void resizeOutput(std::string& out, size_t n) {
  common::resizeUninitialized(out, n);
}
void resizeOutput(ColumnBuffer& out, size_t n) {
  out.resizeUninitialized(n);
}

// Into a std::string or a column's buffer (the decoder fills columns in place).
template <class Out>
absl::Status decompressInto(BodyCodec codec, std::string_view compressed, size_t declared,
                            Out& out) {
  out.clear();
  if (codec == BodyCodec::kNone) {
    if (compressed.size() != declared) return absl::InvalidArgumentError("buffer length differs");
    out.assign(compressed);
    return absl::OkStatus();
  }
  const bool one_call = declared <= plausibleLength(compressed.size());
  // Doubled while the decoder keeps producing, up to one byte past the declared length (which
  // shows a buffer longer than declared). Not zero-filled: the decoder writes what is kept, and a
  // buffer that does not decode is cleared.
  resizeOutput(out, one_call ? declared : 4 * compressed.size() + 64 * 1024);
  size_t produced = 0, consumed = 0;
  auto grow = [&] {
    if (produced == out.size()) {
      resizeOutput(out, std::min(declared + 1, out.size() * 2));
    }
  };
  if (codec == BodyCodec::kZstd) {
    ZSTD_DCtx* ctx = zstdContext();
    if (ctx == nullptr) return absl::InternalError("zstd context");
    if (one_call) {
      const size_t r =
          ZSTD_decompressDCtx(ctx, out.data(), out.size(), compressed.data(), compressed.size());
      if (ZSTD_isError(r) || r != declared) return corrupt(codec, out);
      return absl::OkStatus();
    }
    bool ok = false;
    for (;;) {
      grow();
      ZSTD_outBuffer o{out.data(), out.size(), produced};
      ZSTD_inBuffer in{compressed.data(), compressed.size(), consumed};
      const size_t r = ZSTD_decompressStream(ctx, &o, &in);
      const bool progress = o.pos != produced || in.pos != consumed;
      produced = o.pos;
      consumed = in.pos;
      if (ZSTD_isError(r) || produced > declared) break;
      if (r == 0) {  // the frame is complete
        ok = consumed == compressed.size() && produced == declared;
        break;
      }
      if (!progress) break;  // truncated
    }
    releaseZstdContext();
    if (!ok) return corrupt(codec, out);
    out.resize(produced);
    return absl::OkStatus();
  }
  LZ4F_dctx* ctx = lz4Context();
  if (ctx == nullptr) return absl::InternalError("lz4 context");
  bool ok = false;
  for (;;) {
    if (!one_call) grow();
    size_t dst = out.size() - produced, src = compressed.size() - consumed;
    const size_t r = LZ4F_decompress(ctx, out.data() + produced, &dst, compressed.data() + consumed,
                                     &src, nullptr);
    produced += dst;
    consumed += src;
    if (LZ4F_isError(r) || produced > declared) break;
    if (r == 0) {  // the frame is complete
      ok = consumed == compressed.size() && produced == declared;
      break;
    }
    if (one_call || (dst == 0 && src == 0)) break;  // longer than declared, or truncated
  }
  if (!keepsLz4Context(compressed)) t_lz4.reset();
  if (!ok) return corrupt(codec, out);
  out.resize(produced);
  return absl::OkStatus();
}

}  // namespace

absl::Status decompressBuffer(BodyCodec codec, std::string_view compressed, size_t declared,
                              std::string& out) {
  return decompressInto(codec, compressed, declared, out);
}
absl::Status decompressBuffer(BodyCodec codec, std::string_view compressed, size_t declared,
                              ColumnBuffer& out) {
  return decompressInto(codec, compressed, declared, out);
}

MessageSpan nextMessage(std::string_view data, size_t pos) {
  MessageSpan m{};
  if (data.size() - pos < 8) {
    m.kind = MessageSpan::Kind::kTruncated;
    return m;
  }
  uint32_t cont;
  int32_t len;
  std::memcpy(&cont, data.data() + pos, 4);
  std::memcpy(&len, data.data() + pos + 4, 4);
  if (cont != kContinuation || len < 0) {
    m.kind = MessageSpan::Kind::kCorrupt;
    m.error = strCat("no message at offset ", pos);
    return m;
  }
  if (len == 0) {
    m.kind = MessageSpan::Kind::kEndOfStream;
    m.end = pos + 8;
    return m;
  }
  const size_t meta_start = pos + 8;
  if (data.size() - meta_start < static_cast<size_t>(len)) {
    m.kind = MessageSpan::Kind::kTruncated;
    return m;
  }
  m.metadata = data.substr(meta_start, static_cast<size_t>(len));
  // Arrow keeps every message 8-byte aligned (padded metadata and bodies). Flatbuffers reads
  // scalars and structs where they lie and its verifier checks alignment only relative to the
  // message, so a corrupt length that shifts a message would make every reader of it (here and
  // in the store's readers) load misaligned values: undefined behaviour (found by the store_file
  // fuzz target's long run, UBSan in GetMessage). Such a message is corrupt.
  if (reinterpret_cast<uintptr_t>(m.metadata.data()) % 8 != 0) {
    m.kind = MessageSpan::Kind::kCorrupt;
    m.error = strCat("misaligned message at offset ", pos);
    return m;
  }
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(m.metadata.data()), m.metadata.size());
  if (!fb::VerifyMessageBuffer(v)) {
    m.kind = MessageSpan::Kind::kCorrupt;
    m.error = strCat("invalid message metadata at offset ", pos);
    return m;
  }
  const auto* msg = fb::GetMessage(m.metadata.data());
  const int64_t body_len = msg->bodyLength();
  const size_t body_start = meta_start + static_cast<size_t>(len);
  if (body_len < 0) {
    m.kind = MessageSpan::Kind::kCorrupt;
    m.error = strCat("negative body length at offset ", pos);
    return m;
  }
  if (data.size() - body_start < static_cast<uint64_t>(body_len)) {
    m.kind = MessageSpan::Kind::kTruncated;
    return m;
  }
  m.body = data.substr(body_start, static_cast<size_t>(body_len));
  m.end = body_start + static_cast<size_t>(body_len);
  m.kind = MessageSpan::Kind::kMessage;
  return m;
}

// --- decoding ---------------------------------------------------------------------------------

namespace {

absl::StatusOr<FieldSpec> fieldFromFb(const fb::Field* f, std::vector<int64_t>& dict_ids) {
  FieldSpec s;
  if (f->name() != nullptr) s.name = f->name()->str();
  s.nullable = f->nullable();
  if (f->dictionary() != nullptr) {
    const auto* it = f->dictionary()->indexType();
    if (it != nullptr && (it->bitWidth() != 32 || !it->is_signed())) {
      return absl::UnimplementedError(strCat("field ", s.name, ": only int32 dictionary indices"));
    }
    s.dictionary = true;
    dict_ids.push_back(f->dictionary()->id());
  }
  // The verifier accepts a union whose table is absent; the types read below need theirs (found
  // by the store_file fuzz target: a null Int table was dereferenced).
  const fb::Type type = f->type_type();
  if (f->type() == nullptr && (type == fb::Type::Int || type == fb::Type::FloatingPoint ||
                               type == fb::Type::FixedSizeBinary)) {
    return absl::InvalidArgumentError(strCat("field ", s.name, ": type without its parameters"));
  }
  switch (type) {
    case fb::Type::Bool:
      s.type = ColumnType::kBool;
      break;
    case fb::Type::Int: {
      const auto* t = f->type_as_Int();
      const int w = t->bitWidth();
      const bool sg = t->is_signed();
      if (w == 8) {
        s.type = sg ? ColumnType::kInt8 : ColumnType::kUInt8;
      } else if (w == 32) {
        s.type = sg ? ColumnType::kInt32 : ColumnType::kUInt32;
      } else if (w == 64) {
        s.type = sg ? ColumnType::kInt64 : ColumnType::kUInt64;
      } else {
        return absl::UnimplementedError(strCat("field ", s.name, ": int", w));
      }
      break;
    }
    case fb::Type::FloatingPoint:
      if (f->type_as_FloatingPoint()->precision() != fb::Precision::DOUBLE) {
        return absl::UnimplementedError(strCat("field ", s.name, ": only double floats"));
      }
      s.type = ColumnType::kFloat64;
      break;
    case fb::Type::Timestamp:
      s.type = ColumnType::kTimestampNs;
      break;
    case fb::Type::Duration:
      s.type = ColumnType::kDurationNs;
      break;
    case fb::Type::Utf8:
      s.type = ColumnType::kUtf8;
      break;
    case fb::Type::Binary:
      s.type = ColumnType::kBinary;
      break;
    case fb::Type::FixedSizeBinary:
      s.type = ColumnType::kFixedBinary;
      s.byte_width = f->type_as_FixedSizeBinary()->byteWidth();
      if (s.byte_width <= 0) return absl::InvalidArgumentError("bad fixed-size binary width");
      break;
    case fb::Type::List:
      s.type = ColumnType::kList;
      break;
    case fb::Type::Struct_:
      s.type = ColumnType::kStruct;
      break;
    default:
      return absl::UnimplementedError(
          strCat("field ", s.name, ": Arrow type ", static_cast<int>(f->type_type())));
  }
  if (s.dictionary && s.type != ColumnType::kUtf8) {
    return absl::UnimplementedError(strCat("field ", s.name, ": only utf8 dictionaries"));
  }
  if (f->children() != nullptr) {
    for (const fb::Field* c : *f->children()) {
      auto cs = fieldFromFb(c, dict_ids);
      if (!cs.ok()) return cs.status();
      s.children.push_back(*std::move(cs));
    }
  }
  if (s.type == ColumnType::kList && s.children.size() != 1) {
    return absl::InvalidArgumentError(strCat("list field ", s.name, " needs one child"));
  }
  return s;
}

KeyValues keyValuesFromFb(const flatbuffers::Vector<flatbuffers::Offset<fb::KeyValue>>* kvs) {
  KeyValues out;
  if (kvs == nullptr) return out;
  for (const fb::KeyValue* kv : *kvs) {
    out.emplace_back(kv->key() != nullptr ? kv->key()->str() : "",
                     kv->value() != nullptr ? kv->value()->str() : "");
  }
  return out;
}

class BodyReader {
 public:
  BodyReader(const fb::RecordBatch* rb, std::string_view body) : rb_(rb), body_(body) {
    if (rb->compression() != nullptr) {
      codec_ = rb->compression()->codec() == fb::CompressionType::ZSTD ? BodyCodec::kZstd
                                                                       : BodyCodec::kLz4Frame;
    }
  }

  absl::StatusOr<fb::FieldNode> node() {
    if (rb_->nodes() == nullptr || node_ >= rb_->nodes()->size()) {
      return absl::InvalidArgumentError("record batch has too few field nodes");
    }
    return structAt(*rb_->nodes(), node_++);
  }

  absl::Status buffer(ColumnBuffer& out) {
    out.clear();
    if (rb_->buffers() == nullptr || buffer_ >= rb_->buffers()->size()) {
      return absl::InvalidArgumentError("record batch has too few buffers");
    }
    const fb::Buffer b = structAt(*rb_->buffers(), buffer_++);
    if (b.offset() < 0 || b.length() < 0 ||
        static_cast<uint64_t>(b.offset()) + static_cast<uint64_t>(b.length()) > body_.size()) {
      return absl::InvalidArgumentError("buffer outside the message body");
    }
    std::string_view raw =
        body_.substr(static_cast<size_t>(b.offset()), static_cast<size_t>(b.length()));
    if (codec_ == BodyCodec::kNone || raw.empty()) {
      out.assign(raw);
      return absl::OkStatus();
    }
    if (raw.size() < 8) return absl::InvalidArgumentError("compressed buffer without length");
    int64_t n;
    std::memcpy(&n, raw.data(), 8);
    raw.remove_prefix(8);
    if (n == -1) {
      out.assign(raw);
      return absl::OkStatus();
    }
    if (n < 0 || n > (int64_t{1} << 32))
      return absl::InvalidArgumentError("bad uncompressed length");
    return decompressBuffer(codec_, raw, static_cast<size_t>(n), out);
  }

  // Steps over a column's field nodes and buffers without reading them: nodes and buffers are
  // laid out depth-first, so the columns after it are found as if it had been read.
  void skip(const FieldSpec& f) {
    ++node_;
    ++buffer_;  // validity
    switch (f.type) {
      case ColumnType::kStruct:
        for (const FieldSpec& c : f.children) skip(c);
        break;
      case ColumnType::kList:
        ++buffer_;  // offsets
        skip(f.children[0]);
        break;
      case ColumnType::kUtf8:
      case ColumnType::kBinary:
        buffer_ += f.dictionary ? 1 : 2;  // indices, or offsets + data
        break;
      default:
        ++buffer_;  // values
    }
  }

  absl::Status column(Column& c) {
    auto n = node();
    if (!n.ok()) return n.status();
    const int64_t length = n->length();
    const int64_t nulls = n->null_count();
    if (length < 0 || nulls < 0 || nulls > length || length > (int64_t{1} << 31)) {
      return absl::InvalidArgumentError("bad field node");
    }
    const auto len = static_cast<size_t>(length);
    if (auto s = buffer(c.validityBuffer()); !s.ok()) return s;
    if (nulls == 0) {
      c.validityBuffer().clear();
    } else if (c.validityBuffer().size() < (len + 7) / 8) {
      return absl::InvalidArgumentError(strCat(c.spec().name, ": validity buffer too short"));
    }
    const FieldSpec& s = c.spec();
    auto checkOffsets = [&](size_t limit) -> absl::Status {
      const ColumnBuffer& o = c.offsetsBuffer();
      if (o.size() < (len + 1) * 4)
        return absl::InvalidArgumentError(strCat(s.name, ": offsets too short"));
      int32_t prev;
      std::memcpy(&prev, o.data(), 4);
      if (prev < 0) return absl::InvalidArgumentError(strCat(s.name, ": bad offsets"));
      for (size_t i = 1; i <= len; ++i) {
        int32_t v;
        std::memcpy(&v, o.data() + i * 4, 4);
        if (v < prev || static_cast<size_t>(v) > limit) {
          return absl::InvalidArgumentError(strCat(s.name, ": bad offsets"));
        }
        prev = v;
      }
      return absl::OkStatus();
    };
    if (s.type == ColumnType::kStruct) {
      for (size_t i = 0; i < c.childCount(); ++i) {
        if (auto st = column(c.child(i)); !st.ok()) return st;
        if (c.child(i).length() < len) return absl::InvalidArgumentError("short struct child");
      }
    } else if (s.type == ColumnType::kList) {
      if (auto st = buffer(c.offsetsBuffer()); !st.ok()) return st;
      if (auto st = column(c.child(0)); !st.ok()) return st;
      if (auto st = checkOffsets(c.child(0).length()); !st.ok()) return st;
    } else if (!s.dictionary && (s.type == ColumnType::kUtf8 || s.type == ColumnType::kBinary)) {
      if (auto st = buffer(c.offsetsBuffer()); !st.ok()) return st;
      if (auto st = buffer(c.dataBuffer()); !st.ok()) return st;
      if (auto st = checkOffsets(c.dataBuffer().size()); !st.ok()) return st;
    } else {
      if (auto st = buffer(c.valuesBuffer()); !st.ok()) return st;
      const size_t need = s.type == ColumnType::kBool ? (len + 7) / 8 : len * fixedWidth(s);
      if (c.valuesBuffer().size() < need) {
        return absl::InvalidArgumentError(strCat(s.name, ": values buffer too short"));
      }
    }
    c.setDecoded(len, static_cast<size_t>(nulls));
    return absl::OkStatus();
  }

 private:
  const fb::RecordBatch* rb_;
  std::string_view body_;
  BodyCodec codec_ = BodyCodec::kNone;
  size_t node_ = 0;
  size_t buffer_ = 0;
};

}  // namespace

absl::Status IpcDecoder::decodeSchema(const void* p) {
  const auto* schema = static_cast<const fb::Schema*>(p);
  auto fields = std::make_unique<std::vector<FieldSpec>>();
  dictionary_ids_.clear();
  if (schema->fields() != nullptr) {
    for (const fb::Field* f : *schema->fields()) {
      auto s = fieldFromFb(f, dictionary_ids_);
      if (!s.ok()) return s.status();
      fields->push_back(*std::move(s));
    }
  }
  schema_metadata_ = keyValuesFromFb(schema->custom_metadata());
  fields_ = std::move(fields);
  table_ = std::make_unique<ColumnTable>(fields_.get());
  return absl::OkStatus();
}

absl::Status IpcDecoder::decodeRecordBatch(const void* p, std::string_view body, ColumnTable& table,
                                           const std::vector<bool>* columns, bool selected) {
  const auto* rb = static_cast<const fb::RecordBatch*>(p);
  if (columns == nullptr || selected) table.clearRows();
  BodyReader r(rb, body);
  for (size_t i = 0; i < table.columnCount(); ++i) {
    if (columns != nullptr && i < columns->size() && (*columns)[i] != selected) {
      r.skip(table.fields()[i]);
      continue;
    }
    if (auto s = r.column(table.column(i)); !s.ok()) return s;
    if (table.column(i).length() != static_cast<size_t>(rb->length())) {
      return absl::InvalidArgumentError("column length differs from the batch length");
    }
  }
  return absl::OkStatus();
}

absl::Status IpcDecoder::decodeDictionary(const void* p, std::string_view body) {
  const auto* db = static_cast<const fb::DictionaryBatch*>(p);
  size_t index = dictionary_ids_.size();
  for (size_t i = 0; i < dictionary_ids_.size(); ++i) {
    if (dictionary_ids_[i] == db->id()) index = i;
  }
  if (index == dictionary_ids_.size() || db->data() == nullptr) {
    return absl::InvalidArgumentError(strCat("dictionary batch for unknown id ", db->id()));
  }
  static const std::vector<FieldSpec> kValues{{"values", ColumnType::kUtf8, true, 0, false, {}}};
  ColumnTable values(&kValues);
  BodyReader r(db->data(), body);
  if (auto s = r.column(values.column(0)); !s.ok()) return s;
  Dictionary& d = *table_->dictionaries()[index];
  if (!db->isDelta()) d.clear();
  const Column& c = values.column(0);
  for (size_t i = 0; i < c.length(); ++i) d.add(c.bytesAt(i));
  return absl::OkStatus();
}

absl::StatusOr<IpcDecoder::Event> IpcDecoder::next(std::string_view data, size_t& pos) {
  MessageSpan m = nextMessage(data, pos);
  switch (m.kind) {
    case MessageSpan::Kind::kTruncated:
      return Event::kEndOfData;
    case MessageSpan::Kind::kCorrupt:
      return absl::DataLossError(m.error);
    case MessageSpan::Kind::kEndOfStream:
      pos = m.end;
      return Event::kEndOfStream;
    case MessageSpan::Kind::kMessage:
      break;
  }
  const auto* msg = fb::GetMessage(m.metadata.data());
  // The verifier accepts a union whose table is absent (found by the store_file fuzz replay: a
  // null schema / dictionary batch was dereferenced).
  if (msg->header() == nullptr) return absl::InvalidArgumentError("IPC message without its header");
  absl::Status s;
  Event e;
  switch (msg->header_type()) {
    case fb::MessageHeader::Schema:
      s = decodeSchema(msg->header_as_Schema());
      e = Event::kSchema;
      break;
    case fb::MessageHeader::DictionaryBatch:
      if (!table_) return absl::InvalidArgumentError("dictionary batch before the schema");
      s = decodeDictionary(msg->header_as_DictionaryBatch(), m.body);
      e = Event::kDictionary;
      break;
    case fb::MessageHeader::RecordBatch:
      if (!table_) return absl::InvalidArgumentError("record batch before the schema");
      batch_metadata_ = keyValuesFromFb(msg->custom_metadata());
      if (skip_bodies_) {
        pending_columns_.clear();
        pending_metadata_.assign(m.metadata);
        pending_body_ = m.body;
      } else {
        s = decodeRecordBatch(msg->header_as_RecordBatch(), m.body, *table_, nullptr, false);
      }
      e = Event::kRecordBatch;
      break;
    default:
      return absl::UnimplementedError("unsupported IPC message type");
  }
  if (!s.ok()) return s;
  pos = m.end;
  return e;
}

absl::Status IpcDecoder::decodePendingBody() {
  if (pending_metadata_.empty()) return absl::FailedPreconditionError("no pending record batch");
  const auto* msg = fb::GetMessage(pending_metadata_.data());
  absl::Status s = decodeRecordBatch(msg->header_as_RecordBatch(), pending_body_, *table_,
                                     pending_columns_.empty() ? nullptr : &pending_columns_,
                                     /*selected=*/false);
  pending_metadata_.clear();
  pending_columns_.clear();
  return s;
}

absl::Status IpcDecoder::decodePendingColumns(const std::vector<bool>& columns) {
  if (pending_metadata_.empty()) return absl::FailedPreconditionError("no pending record batch");
  const auto* msg = fb::GetMessage(pending_metadata_.data());
  pending_columns_.clear();
  absl::Status s = decodeRecordBatch(msg->header_as_RecordBatch(), pending_body_, *table_, &columns,
                                     /*selected=*/true);
  if (s.ok()) {
    pending_columns_ = columns;
  } else {
    table_->clearRows();
  }
  return s;
}

}  // namespace otlpd::store
