// The official OpenTelemetry JS SDK exporting over TLS to otlpd: gRPC (@grpc/grpc-js credentials)
// and HTTP/protobuf (https agent options), each verifying otlpd's certificate against a CA the test
// made with openssl; mutual TLS through the SDK's standard environment variables
// (OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE, _CLIENT_KEY); and a client that does not
// trust otlpd's CA, or has no client certificate for a mutual-TLS listener, refused.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { credentials } from '@grpc/grpc-js';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { makeCertificates } from './lib/certs.mjs';
import { recordingExporter } from './lib/exporters.mjs';
import { spansOf } from './lib/otlp-json.mjs';
import { promValue, startOtlpd } from './lib/otlpd.mjs';

// ExportResultCode in @opentelemetry/core.
const SUCCESS = 0;
const FAILED = 1;

let certs;
let otlpd;

function configYaml(dir) {
  const q = (s) => JSON.stringify(s);
  const tls = `{ cert_file: ${q(certs.path('server.pem'))}, key_file: ${q(certs.path('server.key'))} }`;
  const mtls = `{ cert_file: ${q(certs.path('server.pem'))}, key_file: ${q(certs.path('server.key'))}, ` +
    `client_ca_file: ${q(certs.path('ca.pem'))} }`;
  return `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", tls: ${tls} }
      http: { endpoint: "127.0.0.1:0", tls: ${tls} }
  otlp/mtls:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", tls: ${mtls} }
      http: { endpoint: "127.0.0.1:0", tls: ${mtls} }
exporters:
  file/traces: { path: ${q(path.join(dir, 'traces.jsonl'))} }
extensions:
  health_check: { endpoint: "127.0.0.1:0" }
service:
  extensions: [health_check]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
  pipelines:
    traces: { receivers: [otlp, otlp/mtls], exporters: [file/traces] }
`;
}

before(async () => {
  certs = makeCertificates();
  otlpd = await startOtlpd({ config: configYaml, extraReadyKeys: ['otlp/mtls.grpc', 'otlp/mtls.http'] });
});

after(async () => {
  if (otlpd) {
    const stopped = await otlpd.stop();
    otlpd.cleanup();
    assert.equal(stopped.code, 0, `otlpd did not exit with code 0: ${JSON.stringify(stopped)}`);
  }
  certs?.cleanup();
});

const OTLP_ENV = ['OTEL_EXPORTER_OTLP_CERTIFICATE', 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_CLIENT_KEY'];

async function exporterFor(pkg, options) {
  const { OTLPTraceExporter } = await import(pkg);
  return new OTLPTraceExporter({ timeoutMillis: 5000, ...options });
}

/** Runs fn while `env` is set: the SDK reads its variables when it first exports. */
async function withEnv(env, fn) {
  for (const k of OTLP_ENV) delete process.env[k];
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const k of OTLP_ENV) delete process.env[k];
  }
}

/** Sends `count` spans named `<tag>-<i>` through `exporter`; returns every export result. */
async function sendSpans(exporter, tag, count) {
  const { exporter: recording, calls } = recordingExporter(exporter);
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(recording)] });
  const tracer = provider.getTracer('otlpd-tls-interop');
  for (let i = 0; i < count; i++) tracer.startSpan(`${tag}-${i}`, {}, ROOT_CONTEXT).end();
  // A failed export rejects the flush; the recorded results say what happened.
  await provider.forceFlush().catch(() => {});
  await provider.shutdown().catch(() => {});
  return calls.map((c) => c.result);
}

async function taggedSpans(tag, expected, timeoutMs = 10000) {
  const count = (lines) => spansOf(lines).filter((s) => s.span.name.startsWith(`${tag}-`)).length;
  if (expected === 0) return count(otlpd.readJsonl('traces'));
  const lines = await otlpd.waitForJsonl('traces', count, expected, { timeoutMs });
  return count(lines);
}

function assertAll(results, code, what) {
  assert.ok(results.length > 0, `${what}: no export call`);
  for (const r of results) assert.equal(r.code, code, `${what}: ${r.error?.stack ?? JSON.stringify(r)}`);
}

const grpcUrl = (key) => `https://${otlpd.endpoints[key]}`;
const httpUrl = (key) => `https://${otlpd.endpoints[key]}/v1/traces`;

test('gRPC over TLS with the CA in grpc-js credentials', { timeout: 30000 }, async () => {
  const exporter = await exporterFor('@opentelemetry/exporter-trace-otlp-grpc', {
    url: grpcUrl('otlp.grpc'),
    credentials: credentials.createSsl(certs.read('ca.pem')),
  });
  assertAll(await sendSpans(exporter, 'tls-grpc', 3), SUCCESS, 'gRPC over TLS');
  assert.equal(await taggedSpans('tls-grpc', 3), 3);
});

test('HTTP/protobuf over TLS with the CA in the https agent options', { timeout: 30000 }, async () => {
  const exporter = await exporterFor('@opentelemetry/exporter-trace-otlp-proto', {
    url: httpUrl('otlp.http'),
    httpAgentOptions: { ca: certs.read('ca.pem') },
  });
  assertAll(await sendSpans(exporter, 'tls-http', 3), SUCCESS, 'HTTP over TLS');
  assert.equal(await taggedSpans('tls-http', 3), 3);
});

test('mutual TLS through the SDK environment variables, gRPC and HTTP/JSON', { timeout: 30000 }, async () => {
  const env = {
    OTEL_EXPORTER_OTLP_CERTIFICATE: certs.path('ca.pem'),
    OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certs.path('client.pem'),
    OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.path('client.key'),
  };
  await withEnv(env, async () => {
    const grpc = await exporterFor('@opentelemetry/exporter-trace-otlp-grpc', { url: grpcUrl('otlp/mtls.grpc') });
    assertAll(await sendSpans(grpc, 'mtls-grpc', 2), SUCCESS, 'gRPC with a client certificate');
    const http = await exporterFor('@opentelemetry/exporter-trace-otlp-http', { url: httpUrl('otlp/mtls.http') });
    assertAll(await sendSpans(http, 'mtls-http', 2), SUCCESS, 'HTTP/JSON with a client certificate');
  });
  assert.equal(await taggedSpans('mtls-grpc', 2), 2);
  assert.equal(await taggedSpans('mtls-http', 2), 2);
  const text = await otlpd.scrapeMetrics();
  assert.equal(promValue(text, 'otlpd_receiver_accepted_spans_total', { receiver: 'otlp/mtls', transport: 'grpc' }), 2);
  assert.equal(promValue(text, 'otlpd_receiver_accepted_spans_total', { receiver: 'otlp/mtls', transport: 'http' }), 2);
});

test('clients that do not trust otlpd, or have no client certificate, are refused', { timeout: 60000 }, async () => {
  // Only the CA otlpd's certificate does not come from.
  const untrusting = [
    await exporterFor('@opentelemetry/exporter-trace-otlp-grpc', {
      url: grpcUrl('otlp.grpc'), credentials: credentials.createSsl(certs.read('other-ca.pem')),
    }),
    await exporterFor('@opentelemetry/exporter-trace-otlp-proto', {
      url: httpUrl('otlp.http'), httpAgentOptions: { ca: certs.read('other-ca.pem') },
    }),
  ];
  // otlpd's CA, but no client certificate for the mutual-TLS listener.
  const anonymous = [
    await exporterFor('@opentelemetry/exporter-trace-otlp-grpc', {
      url: grpcUrl('otlp/mtls.grpc'), credentials: credentials.createSsl(certs.read('ca.pem')),
    }),
    await exporterFor('@opentelemetry/exporter-trace-otlp-proto', {
      url: httpUrl('otlp/mtls.http'), httpAgentOptions: { ca: certs.read('ca.pem') },
    }),
  ];
  for (const [i, exporter] of [...untrusting, ...anonymous].entries()) {
    const results = await sendSpans(exporter, `refused${i}`, 1);
    assertAll(results, FAILED, `client ${i}`);
  }
  for (let i = 0; i < 4; i++) assert.equal(await taggedSpans(`refused${i}`, 0), 0);
  // With TLS 1.3 the client is done with its handshake before otlpd has checked the client's
  // certificate, so the client can see the refusal before otlpd has counted it: poll briefly.
  const failures = (text, listener) => promValue(text, 'otlpd_tls_handshake_failures_total', { listener, reason: 'failed' });
  let text = '';
  for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
    text = await otlpd.scrapeMetrics();
    if (failures(text, 'otlp.grpc') >= 1 && failures(text, 'otlp/mtls.http') >= 1) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(failures(text, 'otlp.grpc') >= 1, text);
  assert.ok(failures(text, 'otlp/mtls.http') >= 1, text);
});
