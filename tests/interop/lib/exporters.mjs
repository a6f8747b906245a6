// The official OTLP exporters, one package per protocol and signal, pointed at otlpd, and a thin
// wrapper that records every export call's result so a test fails on a refused export instead of
// the SDK only logging it.
import assert from 'node:assert/strict';

// ExportResultCode.SUCCESS in @opentelemetry/core.
const EXPORT_SUCCESS = 0;

export const PROTOCOLS = {
  grpc: { transport: 'grpc', packageSuffix: 'grpc' },
  'http/protobuf': { transport: 'http', packageSuffix: 'proto' },
  'http/json': { transport: 'http', packageSuffix: 'http' },
};

const SIGNAL = {
  traces: { pkg: 'trace', cls: 'OTLPTraceExporter', path: '/v1/traces' },
  metrics: { pkg: 'metrics', cls: 'OTLPMetricExporter', path: '/v1/metrics' },
  logs: { pkg: 'logs', cls: 'OTLPLogExporter', path: '/v1/logs' },
};

/**
 * A new exporter of `signal` for `protocol` sending to otlpd; `options` go to its constructor
 * (e.g. temporalityPreference).
 */
export async function createExporter(signal, protocol, otlpd, options = {}) {
  const p = PROTOCOLS[protocol];
  const s = SIGNAL[signal];
  assert.ok(p && s, `unknown protocol/signal ${protocol}/${signal}`);
  const mod = await import(`@opentelemetry/exporter-${s.pkg}-otlp-${p.packageSuffix}`);
  const Exporter = mod[s.cls];
  assert.equal(typeof Exporter, 'function', `${s.cls} missing from the ${protocol} ${signal} exporter package`);
  const url = p.transport === 'grpc' ? otlpd.url('otlp.grpc') : otlpd.url('otlp.http', s.path);
  return new Exporter({ url, timeoutMillis: 10000, ...options });
}

/**
 * Wraps an exporter; `calls` collects {items, result} of every export. Metric exporters keep
 * their temporality and aggregation selectors.
 */
export function recordingExporter(inner) {
  const calls = [];
  const wrapped = {
    export(items, done) {
      inner.export(items, (result) => {
        calls.push({ items, result });
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => (inner.forceFlush ? inner.forceFlush() : Promise.resolve()),
  };
  if (inner.selectAggregationTemporality) {
    wrapped.selectAggregationTemporality = (t) => inner.selectAggregationTemporality(t);
  }
  if (inner.selectAggregation) wrapped.selectAggregation = (t) => inner.selectAggregation(t);
  return { exporter: wrapped, calls };
}

/** Fails unless there was at least one export call and every one succeeded. */
export function assertAllExportsSucceeded(calls, what) {
  assert.ok(calls.length > 0, `${what}: the SDK made no export call`);
  calls.forEach(({ result }, i) => {
    assert.equal(result.code, EXPORT_SUCCESS,
      `${what}: export call ${i + 1} of ${calls.length} failed: ${result.error?.stack ?? result.error ?? JSON.stringify(result)}`);
  });
}

/** Prometheus labels of otlpd's receiver counters for a transport. */
export function receiverLabels(transport) {
  return { receiver: 'otlp', transport };
}

export function otherTransport(transport) {
  return transport === 'grpc' ? 'http' : 'grpc';
}
