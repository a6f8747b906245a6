#pragma once

// gRPC messages as their compressed bytes, so that otlpd compresses and decompresses them with
// its own codecs (common/compression.h: libdeflate, bounded) instead of gRPC's zlib.
//
// gRPC C++ 1.51 has no public way to hand over or receive an already compressed message,
// although gRPC core supports both: a server built with GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION
// = 0 leaves the message compressed in its byte buffer and marks the buffer with the algorithm,
// and a sent byte buffer marked as compressed goes out as it is (flagged compressed, no second
// compression). The mark lives in the C buffer, which grpc::ByteBuffer only shows to its friends;
// GrpcByteBufferPeer is the friend gRPC declares for tests, defined here for that one purpose.

#include <grpc/byte_buffer.h>
#include <grpcpp/support/byte_buffer.h>

#include <string>
#include <string_view>

namespace grpc::internal {

class GrpcByteBufferPeer {
 public:
  explicit GrpcByteBufferPeer(ByteBuffer* buffer) : buffer_(buffer) {}
  grpc_byte_buffer* cBuffer() { return buffer_->c_buffer(); }

 private:
  ByteBuffer* buffer_;
};

}  // namespace grpc::internal

namespace otlpd::common {

// The algorithm a received message is still compressed with (GRPC_COMPRESS_NONE when gRPC
// decompressed it or it came uncompressed).
inline grpc_compression_algorithm receivedCompression(grpc::ByteBuffer& buffer) {
  grpc_byte_buffer* raw = grpc::internal::GrpcByteBufferPeer(&buffer).cBuffer();
  if (raw == nullptr || raw->type != GRPC_BB_RAW) return GRPC_COMPRESS_NONE;
  return raw->data.raw.compression;
}

// The message's bytes as they arrived (compressed when receivedCompression says so): a view of
// the one slice when there is one, else a copy of the slices into `scratch`.
inline std::string_view rawMessageBytes(grpc::ByteBuffer& buffer, std::string& scratch) {
  grpc_byte_buffer* raw = grpc::internal::GrpcByteBufferPeer(&buffer).cBuffer();
  if (raw == nullptr || raw->type != GRPC_BB_RAW) return {};
  const grpc_slice_buffer& slices = raw->data.raw.slice_buffer;
  if (slices.count == 1) {
    return std::string_view(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(slices.slices[0])),
                            GRPC_SLICE_LENGTH(slices.slices[0]));
  }
  scratch.clear();
  scratch.reserve(slices.length);
  for (size_t i = 0; i < slices.count; ++i) {
    scratch.append(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(slices.slices[i])),
                   GRPC_SLICE_LENGTH(slices.slices[i]));
  }
  return scratch;
}

// Marks a buffer holding bytes compressed with `algorithm`, so gRPC sends them flagged as
// compressed without compressing them again. The call must announce the same algorithm
// (ClientContext::set_compression_algorithm), which sets the grpc-encoding header.
inline void markCompressed(grpc::ByteBuffer& buffer, grpc_compression_algorithm algorithm) {
  grpc_byte_buffer* raw = grpc::internal::GrpcByteBufferPeer(&buffer).cBuffer();
  if (raw != nullptr && raw->type == GRPC_BB_RAW) raw->data.raw.compression = algorithm;
}

}  // namespace otlpd::common
