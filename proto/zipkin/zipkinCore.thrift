# Zipkin's v1 span model in Thrift: the field ids and types that `POST /api/v1/spans` with
# `Content-Type: application/x-thrift` carries (binary protocol; a list<Span>, or one Span),
# written from Zipkin's published zipkinCore.thrift. Not compiled: src/zipkin/thrift_v1_reader.cc
# reads these fields in place with otlpd's own Thrift reader (src/jaeger/thrift_protocol.h).

namespace cpp otlpd.zipkin.v1

# How a BinaryAnnotation's value bytes are to be read (numbers are big-endian).
enum AnnotationType { BOOL = 0, BYTES = 1, I16 = 2, I32 = 3, I64 = 4, DOUBLE = 5, STRING = 6 }

struct Endpoint {
  1: i32 ipv4            # IPv4 address as a big-endian int; 0 when absent
  2: i16 port            # read as unsigned; 0 when absent
  3: string service_name
  4: optional binary ipv6  # 16 bytes
}

struct Annotation {
  1: i64 timestamp       # epoch microseconds
  2: string value        # "cs", "sr", "ss", "cr", "ms", "mr" or any event text
  3: optional Endpoint host
}

struct BinaryAnnotation {
  1: string key
  2: binary value
  3: AnnotationType annotation_type
  4: optional Endpoint host  # with key "ca", "sa" or "ma" and a true BOOL: an address
}

struct Span {
  1: i64 trace_id        # the low 64 bits
  3: string name
  4: i64 id
  5: optional i64 parent_id
  6: list<Annotation> annotations
  8: list<BinaryAnnotation> binary_annotations
  9: optional bool debug = 0
  10: optional i64 timestamp   # epoch microseconds
  11: optional i64 duration    # microseconds
  12: optional i64 trace_id_high  # the high 64 bits of a 128-bit trace id
}
