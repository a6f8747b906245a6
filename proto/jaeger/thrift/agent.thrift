# The Jaeger agent's UDP interface, written from Jaeger's published IDL: a client sends each batch
# as a ONEWAY `emitBatch` message, compact protocol to port 6831, binary protocol to 6832.
include "jaeger.thrift"

service Agent {
  oneway void emitBatch(1: jaeger.Batch batch)
}
