// Issue #12 connectors: spans from the official OpenTelemetry JS SDK enter one traces pipeline
// that exports to a `routing` connector (by resource attribute, and by the client's gRPC
// metadata in the request context) and to a `forward` connector; the pipelines the connectors
// feed write files, asserted exactly: every span lands in the right pipeline, once.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { ROOT_CONTEXT } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { assertAllExportsSucceeded, createExporter, recordingExporter } from './lib/exporters.mjs';
import { resourceAttributes, spansOf } from './lib/otlp-json.mjs';
import { withOtlpd } from './lib/otlpd.mjs';

const OUTPUTS = ['checkout', 'acme', 'other', 'all'];

function config(dir) {
  const q = (s) => JSON.stringify(s);
  const files = OUTPUTS.map((o) => `  file/${o}: { path: ${q(path.join(dir, `${o}.jsonl`))} }`).join('\n');
  return `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", include_metadata: true }
      http: { endpoint: "127.0.0.1:0" }
connectors:
  routing:
    default_pipelines: [traces/other]
    table:
      - statement: route() where attributes["service.name"] == "checkout"
        pipelines: [traces/checkout]
      - context: request
        condition: request["x-tenant"] == "acme"
        pipelines: [traces/acme]
  forward:
exporters:
${files}
extensions:
  health_check: { endpoint: "127.0.0.1:0" }
service:
  extensions: [health_check]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
  pipelines:
    traces/in: { receivers: [otlp], exporters: [routing, forward] }
    traces/all: { receivers: [forward], exporters: [file/all] }
    traces/checkout: { receivers: [routing], exporters: [file/checkout] }
    traces/acme: { receivers: [routing], exporters: [file/acme] }
    traces/other: { receivers: [routing], exporters: [file/other] }
`;
}

async function sendSpans(otlpd, service, names, headers) {
  // The gRPC exporter sends these headers as metadata (the way deployments configure it).
  if (headers) process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS = Object.entries(headers).map(([k, v]) => `${k}=${v}`).join(',');
  let inner;
  try {
    inner = await createExporter('traces', 'grpc', otlpd);
  } finally {
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS;
  }
  const rec = recordingExporter(inner);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(rec.exporter)],
  });
  const tracer = provider.getTracer('connectors-test');
  for (const name of names) tracer.startSpan(name, {}, ROOT_CONTEXT).end();
  await provider.forceFlush();
  await provider.shutdown();
  assertAllExportsSucceeded(rec.calls, `${service} spans`);
}

test('routing and forward connectors join pipelines; every span lands where its route says', { timeout: 60000 }, async () => {
  await withOtlpd(async (otlpd) => {
    for (const o of OUTPUTS) otlpd.files[o] = path.join(otlpd.dir, `${o}.jsonl`);
    await sendSpans(otlpd, 'checkout', ['pay', 'refund'], { 'x-tenant': 'acme' });
    await sendSpans(otlpd, 'cart', ['add'], { 'x-tenant': 'acme' });
    await sendSpans(otlpd, 'cart', ['remove', 'list']);

    const names = (o) => spansOf(otlpd.readJsonl(o)).map((s) => `${resourceAttributes(s.resource)['service.name'].string}/${s.span.name}`).sort();
    await otlpd.waitForJsonl('all', (l) => spansOf(l).length, 5);
    assert.deepEqual(names('all'), ['cart/add', 'cart/list', 'cart/remove', 'checkout/pay', 'checkout/refund'], 'forward: everything');
    // The resource route comes first in the table: checkout wins over the acme tenant.
    assert.deepEqual(names('checkout'), ['checkout/pay', 'checkout/refund']);
    assert.deepEqual(names('acme'), ['cart/add'], 'request context: the gRPC metadata x-tenant');
    assert.deepEqual(names('other'), ['cart/list', 'cart/remove'], 'default_pipelines');
  }, { config });
});
