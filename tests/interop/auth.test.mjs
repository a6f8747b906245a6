// Authentication with the official OpenTelemetry JS SDK exporters (gRPC, HTTP/protobuf,
// HTTP/JSON): a bearer token configured the way deployments do (OTEL_EXPORTER_OTLP_*_HEADERS)
// is let in and its name stamped on every span by the attributes processor (auth.subject); a
// wrong token makes the SDK's export fail (401 / UNAUTHENTICATED) and nothing is written.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { ROOT_CONTEXT } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { createExporter, PROTOCOLS, recordingExporter } from './lib/exporters.mjs';
import { spansOf } from './lib/otlp-json.mjs';
import { withOtlpd } from './lib/otlpd.mjs';

const EXPORT_SUCCESS = 0;

function config(dir) {
  const q = (s) => JSON.stringify(s);
  return `extensions:
  bearertokenauth:
    tokens:
      - { token: "sdk-token-for-acme", name: acme }
  health_check: { endpoint: "127.0.0.1:0" }
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", auth: { authenticator: bearertokenauth } }
      http: { endpoint: "127.0.0.1:0", auth: { authenticator: bearertokenauth } }
processors:
  attributes:
    actions:
      - { key: tenant, from_context: auth.subject, action: upsert }
exporters:
  file/traces: { path: ${q(path.join(dir, 'traces.jsonl'))} }
service:
  extensions: [bearertokenauth, health_check]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
  pipelines:
    traces: { receivers: [otlp], processors: [attributes], exporters: [file/traces] }
`;
}

// Exports `names` as spans of `service` with `token`; returns the SDK's export results.
async function sendSpans(otlpd, protocol, service, names, token) {
  process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS = `Authorization=Bearer%20${token}`;
  let inner;
  try {
    inner = await createExporter('traces', protocol, otlpd);
  } finally {
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS;
  }
  const rec = recordingExporter(inner);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(rec.exporter)],
  });
  const tracer = provider.getTracer('auth-test');
  for (const name of names) tracer.startSpan(name, {}, ROOT_CONTEXT).end();
  // A refused export rejects the flush (SimpleSpanProcessor); the results below say what happened.
  await provider.forceFlush().catch(() => {});
  await provider.shutdown().catch(() => {});
  assert.ok(rec.calls.length > 0, `${protocol}: the SDK made no export call`);
  return rec.calls.map((c) => c.result.code);
}

test('the JS SDK exports with a bearer token; a wrong token is refused', { timeout: 90000 }, async () => {
  await withOtlpd(async (otlpd) => {
    const protocols = Object.keys(PROTOCOLS);
    for (const protocol of protocols) {
      const service = `svc-${protocol.replace('/', '-')}`;
      const refused = await sendSpans(otlpd, protocol, `${service}-refused`, ['nope'], 'wrong-token');
      assert.ok(refused.every((code) => code !== EXPORT_SUCCESS), `${protocol}: a wrong token was accepted`);
      const accepted = await sendSpans(otlpd, protocol, service, ['a', 'b'], 'sdk-token-for-acme');
      assert.deepEqual(accepted, accepted.map(() => EXPORT_SUCCESS), `${protocol}: the right token was refused`);
    }
    const lines = await otlpd.waitForJsonl('traces', (l) => spansOf(l).length, 2 * protocols.length);
    const spans = spansOf(lines);
    assert.equal(spans.length, 2 * protocols.length, 'only the accepted spans were written');
    for (const { span } of spans) {
      const tenant = span.attributes.find((a) => a.key === 'tenant');
      assert.equal(tenant?.value?.stringValue, 'acme', `span ${span.name} carries the token's name`);
    }
    for (const transport of ['grpc', 'http']) {
      const refusedCount = transport === 'grpc' ? 1 : 2;
      const { value } = await otlpd.waitForMetric('otlpd_receiver_unauthenticated_requests_total',
        { receiver: 'otlp', transport }, refusedCount);
      assert.ok(value >= refusedCount, `${transport}: ${value} refusals counted`);
    }
  }, { config });
});
