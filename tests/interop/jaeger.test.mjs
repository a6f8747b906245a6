// Jaeger clients nobody here wrote send to otlpd's `jaeger` receiver: npm `jaeger-client` over
// Thrift/HTTP (thrift_http) and over UDP (thrift_binary, the agent port it speaks), and a gRPC
// client built at run time from our jaeger.api_v2 .proto by @grpc/proto-loader + @grpc/grpc-js.
// The spans are read back from the store's Arrow files (apache-arrow) and asserted field by field;
// bad bodies get a 400 and bad packets are dropped and counted, with the receiver still serving.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import jaegerClient from 'jaeger-client';

import { startOtlpd } from './lib/otlpd.mjs';
import { arrowFiles, hex, readTable, tempDir, waitRows } from './lib/store.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PROTO_ROOT = path.join(here, '..', '..', 'proto');
const JAEGER_KEYS = ['jaeger.thrift_http', 'jaeger.grpc', 'jaeger.thrift_compact', 'jaeger.thrift_binary'];

function config(storeDir) {
  return () => `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0" }
  jaeger:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      thrift_http: { endpoint: "127.0.0.1:0" }
      thrift_compact: { endpoint: "127.0.0.1:0" }
      thrift_binary: { endpoint: "127.0.0.1:0", workers: 2 }
exporters:
  store: { directory: ${JSON.stringify(storeDir)}, write_interval: 100ms, compression: none }
extensions:
  health_check: { endpoint: "127.0.0.1:0" }
service:
  extensions: [health_check]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
  pipelines:
    traces: { receivers: [otlp, jaeger], exporters: [store] }
`;
}

const quietLogger = { info() {}, error(msg) { throw new Error(`jaeger-client: ${msg}`); } };

// apache-arrow reads a nanosecond timestamp as float milliseconds: microseconds survive that.
const micros = (v) => BigInt(Math.round(Number(v) * 1000));

/** Every span in the store, as plain objects keyed by span id (hex); times in microseconds. */
function readSpans(storeDir) {
  const spans = new Map();
  for (const file of arrowFiles(storeDir, 'traces')) {
    const t = readTable(file);
    for (let i = 0; i < t.numRows; i++) {
      const attrs = (col) => Object.fromEntries((t.getChild(col).get(i)?.toArray() ?? []).map(
        (a) => [a.key, a.str_dict ?? a.str ?? a.int ?? a.double ?? a.bool ?? a.bytes]));
      spans.set(hex(t.getChild('span_id').get(i)), {
        traceId: hex(t.getChild('trace_id').get(i)),
        parentSpanId: t.getChild('parent_span_id').get(i) ? hex(t.getChild('parent_span_id').get(i)) : null,
        name: t.getChild('name').get(i),
        kind: t.getChild('kind').get(i),
        service: t.getChild('service_name').get(i),
        statusCode: t.getChild('status_code').get(i),
        statusMessage: t.getChild('status_message').get(i),
        start: micros(t.getChild('start_time').get(i)),
        duration: BigInt(t.getChild('duration').get(i)),
        attributes: attrs('attributes'),
        resource: attrs('resource_attributes'),
        events: (t.getChild('events').get(i)?.toArray() ?? []).map((e) => ({
          name: e.name,
          time: micros(e.time),
          attributes: Object.fromEntries((e.attributes?.toArray() ?? []).map((a) => [a.key, a.str_dict ?? a.str ?? a.int ?? a.double ?? a.bool])),
        })),
        links: (t.getChild('links').get(i)?.toArray() ?? []).map((l) => ({
          traceId: hex(l.trace_id),
          spanId: hex(l.span_id),
          attributes: Object.fromEntries((l.attributes?.toArray() ?? []).map((a) => [a.key, a.str_dict ?? a.str])),
        })),
      });
    }
  }
  return spans;
}

/** Two spans from jaeger-client, a server span with a log and an erroring client child. */
async function sendWithJaegerClient(serviceName, reporter) {
  const tracer = jaegerClient.initTracer(
    { serviceName, sampler: { type: 'const', param: 1 }, reporter: { ...reporter, flushIntervalMs: 50 } },
    { logger: quietLogger, tags: { 'deployment.environment': 'interop' } },
  );
  const t0 = Date.now();
  const parent = tracer.startSpan('GET /orders', {
    startTime: t0,
    tags: { 'span.kind': 'server', 'http.status_code': 200, 'http.method': 'GET' },
  });
  parent.log({ event: 'cache-miss', key: 'k1' }, t0 + 1);
  const child = tracer.startSpan('SELECT orders', {
    childOf: parent.context(),
    startTime: t0 + 2,
    tags: { 'span.kind': 'client', error: true, 'db.rows': 3, ratio: 0.5, 'otel.status_description': 'timeout' },
  });
  child.finish(t0 + 7);
  parent.finish(t0 + 10);
  await new Promise((resolve) => tracer.close(resolve));
  const id = (ctx) => ({ traceId: ctx.traceId.toString('hex'), spanId: ctx.spanId.toString('hex') });
  return { t0, parent: id(parent.context()), child: id(child.context()) };
}

function assertJaegerClientSpans(spans, sent, serviceName) {
  const parent = spans.get(sent.parent.spanId.padStart(16, '0'));
  const child = spans.get(sent.child.spanId.padStart(16, '0'));
  assert.ok(parent, `parent span ${sent.parent.spanId} in the store`);
  assert.ok(child, `child span ${sent.child.spanId} in the store`);
  // 64-bit Jaeger trace ids become 128-bit OTLP ids with a zero high half.
  assert.equal(parent.traceId, sent.parent.traceId.padStart(32, '0'));
  assert.equal(child.traceId, parent.traceId);
  assert.equal(parent.parentSpanId, null);
  assert.equal(child.parentSpanId, sent.parent.spanId.padStart(16, '0'));
  assert.equal(parent.name, 'GET /orders');
  assert.equal(child.name, 'SELECT orders');
  assert.equal(parent.kind, 2, 'span.kind=server → SPAN_KIND_SERVER');
  assert.equal(child.kind, 3, 'span.kind=client → SPAN_KIND_CLIENT');
  assert.equal(parent.service, serviceName);
  // Microseconds on the wire: milliseconds from the client, exact.
  assert.equal(parent.start, BigInt(sent.t0) * 1000n);
  assert.equal(parent.duration, 10000000n);
  assert.equal(child.start, BigInt(sent.t0 + 2) * 1000n);
  assert.equal(child.duration, 5000000n);
  assert.equal(parent.statusCode, 0);
  assert.equal(child.statusCode, 2, 'error=true → STATUS_CODE_ERROR');
  assert.equal(child.statusMessage, 'timeout');
  // jaeger-client sends JS numbers as DOUBLE tags, and its sampler's decision on the root span.
  assert.deepEqual(parent.attributes, {
    'http.status_code': 200, 'http.method': 'GET', 'sampler.type': 'const', 'sampler.param': true,
  });
  const childAttrs = { ...child.attributes };
  assert.equal(childAttrs['db.rows'], 3);
  assert.equal(childAttrs.ratio, 0.5);
  for (const gone of ['span.kind', 'error', 'otel.status_description']) {
    assert.equal(gone in childAttrs, false, `${gone} is translated, not kept`);
  }
  assert.equal(parent.events.length, 1);
  assert.equal(parent.events[0].name, 'cache-miss');
  assert.equal(parent.events[0].time, BigInt(sent.t0 + 1) * 1000n);
  assert.deepEqual(parent.events[0].attributes, { key: 'k1' });
  // Process tags: the client's own, with the Collector's two renames.
  assert.equal(parent.resource['service.name'], serviceName);
  assert.equal(parent.resource['deployment.environment'], 'interop');
  assert.equal(parent.resource['host.name'], os.hostname());
  assert.equal(parent.resource.hostname, undefined);
  assert.match(parent.resource['opencensus.exporterversion'], /^Jaeger-Node-3\.19\.0$/);
  assert.equal(parent.resource['jaeger.version'], undefined);
}

async function withJaegerOtlpd(fn) {
  const dir = tempDir();
  const storeDir = path.join(dir, 'data');
  const otlpd = await startOtlpd({ config: config(storeDir), extraReadyKeys: JAEGER_KEYS });
  try {
    await fn(otlpd, storeDir);
  } catch (e) {
    e.message += `\n${otlpd.describe()}`;
    throw e;
  } finally {
    await otlpd.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('jaeger-client over Thrift/HTTP: spans arrive field by field', { timeout: 45000 }, () =>
  withJaegerOtlpd(async (otlpd, storeDir) => {
    const sent = await sendWithJaegerClient('jaeger-http', {
      collectorEndpoint: otlpd.url('jaeger.thrift_http', '/api/traces'),
    });
    await waitRows(otlpd, 'traces', 2);
    assertJaegerClientSpans(readSpans(storeDir), sent, 'jaeger-http');
    const metrics = await otlpd.scrapeMetrics();
    assert.match(metrics, /otlpd_receiver_accepted_spans_total\{receiver="jaeger",transport="http"\} 2/);
  }));

test('jaeger-client over UDP (agent, thrift_binary): spans arrive field by field', { timeout: 45000 }, () =>
  withJaegerOtlpd(async (otlpd, storeDir) => {
    const [host, port] = otlpd.endpoints['jaeger.thrift_binary'].split(':');
    const sent = await sendWithJaegerClient('jaeger-udp', { agentHost: host, agentPort: Number(port) });
    await waitRows(otlpd, 'traces', 2);
    assertJaegerClientSpans(readSpans(storeDir), sent, 'jaeger-udp');
  }));

test('a gRPC client built from jaeger.api_v2 collector.proto: PostSpans arrives field by field', { timeout: 45000 }, () =>
  withJaegerOtlpd(async (otlpd, storeDir) => {
    const definition = protoLoader.loadSync('jaeger/api_v2/collector.proto', {
      includeDirs: [PROTO_ROOT], keepCase: true, longs: String, enums: String, defaults: false,
    });
    const api = grpc.loadPackageDefinition(definition).jaeger.api_v2;
    const client = new api.CollectorService(otlpd.endpoints['jaeger.grpc'], grpc.credentials.createInsecure());
    const traceId = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
    const rootId = Buffer.from('b7ad6b7169203331', 'hex');
    const childId = Buffer.from('00f067aa0ba902b7', 'hex');
    const linkedId = Buffer.from('1111111111111111', 'hex');
    const request = {
      batch: {
        process: { service_name: 'grpc-svc', tags: [{ key: 'hostname', v_str: 'node-7' }, { key: 'pod', v_str: 'p-1' }] },
        spans: [
          {
            trace_id: traceId, span_id: rootId, operation_name: 'root',
            start_time: { seconds: 1700000000, nanos: 1000 }, duration: { seconds: 0, nanos: 5000000 },
            tags: [
              { key: 'span.kind', v_str: 'producer' },
              { key: 'otel.status_code', v_str: 'OK' },
              { key: 'count', v_type: 'INT64', v_int64: '42' },
              { key: 'flag', v_type: 'BOOL', v_bool: true },
              { key: 'raw', v_type: 'BINARY', v_binary: Buffer.from([1, 2, 3]) },
              { key: 'w3c.tracestate', v_str: 'vendor=x' },
              { key: 'otel.scope.name', v_str: 'my-lib' },
            ],
            logs: [{ timestamp: { seconds: 1700000000, nanos: 2000 }, fields: [{ key: 'event', v_str: 'sent' }, { key: 'size', v_type: 'INT64', v_int64: '10' }] }],
          },
          {
            trace_id: traceId, span_id: childId, operation_name: 'child',
            start_time: { seconds: 1700000000, nanos: 3000 }, duration: { seconds: 0, nanos: 1000 },
            references: [
              { trace_id: traceId, span_id: rootId, ref_type: 'CHILD_OF' },
              { trace_id: traceId, span_id: linkedId, ref_type: 'FOLLOWS_FROM' },
            ],
            tags: [{ key: 'span.kind', v_str: 'consumer' }, { key: 'http.status_code', v_type: 'INT64', v_int64: '503' }],
            process: { service_name: 'other-svc' },
          },
        ],
      },
    };
    try {
      const response = await new Promise((resolve, reject) => {
        client.PostSpans(request, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res)));
      });
      assert.deepEqual(response, {});
      // A trace id of the wrong length: INVALID_ARGUMENT, and the receiver keeps serving.
      const bad = { batch: { spans: [{ trace_id: Buffer.from([1, 2, 3]), span_id: rootId }] } };
      const err = await new Promise((resolve) => {
        client.PostSpans(bad, { deadline: Date.now() + 5000 }, (e) => resolve(e));
      });
      assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /trace_id of 3 bytes/);
    } finally {
      client.close();
    }
    await waitRows(otlpd, 'traces', 2);
    const spans = readSpans(storeDir);
    const root = spans.get('b7ad6b7169203331');
    const child = spans.get('00f067aa0ba902b7');
    assert.ok(root && child, `both spans stored: ${[...spans.keys()]}`);
    assert.equal(root.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(root.name, 'root');
    assert.equal(root.kind, 4, 'producer');
    assert.equal(root.statusCode, 1, 'otel.status_code=OK');
    assert.equal(root.start, 1700000000000001n);
    assert.equal(root.duration, 5000000n);
    assert.equal(root.service, 'grpc-svc');
    assert.equal(root.resource['host.name'], 'node-7');
    assert.equal(root.resource.pod, 'p-1');
    assert.equal(root.attributes.count, 42n);
    assert.equal(root.attributes.flag, true);
    assert.deepEqual([...root.attributes.raw], [1, 2, 3]);
    assert.deepEqual(Object.keys(root.attributes).sort(), ['count', 'flag', 'raw']);
    assert.deepEqual(root.events, [{ name: 'sent', time: 1700000000000002n, attributes: { size: 10n } }]);
    assert.equal(child.parentSpanId, 'b7ad6b7169203331');
    assert.equal(child.kind, 5, 'consumer');
    assert.equal(child.statusCode, 2, 'HTTP 503 → STATUS_CODE_ERROR');
    assert.equal(child.service, 'other-svc', "a span's own process wins");
    assert.deepEqual(child.links, [{
      traceId: '0af7651916cd43dd8448eb211c80319c', spanId: '1111111111111111',
      attributes: { 'opentracing.ref_type': 'follows_from' },
    }]);
  }));

test('bad Thrift bodies get a 400, bad UDP packets are dropped and counted', { timeout: 45000 }, () =>
  withJaegerOtlpd(async (otlpd) => {
    const post = (body, contentType = 'application/x-thrift') => fetch(otlpd.url('jaeger.thrift_http', '/api/traces'), {
      method: 'POST', headers: { 'content-type': contentType }, body, signal: AbortSignal.timeout(5000),
    });
    // A struct whose first field is a string declaring 100 MB, with 3 bytes behind it.
    const lying = Buffer.from([0x0c, 0x00, 0x01, 0x0b, 0x00, 0x01, 0x06, 0x40, 0x00, 0x00, 0x61, 0x62, 0x63]);
    let res = await post(lying);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /^Unable to process request body: thrift binary protocol: string length past the end/);
    res = await post(Buffer.from('{"spans": []}'), 'application/json');
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Unsupported content type: application\/json/);
    res = await fetch(otlpd.url('jaeger.thrift_http', '/api/traces'), { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 405);

    const [host, port] = otlpd.endpoints['jaeger.thrift_compact'].split(':');
    const socket = dgram.createSocket('udp4');
    try {
      for (const packet of [Buffer.from('not thrift'), Buffer.from([0x82, 0x81, 0x01, 0x09])]) {
        await new Promise((resolve, reject) => socket.send(packet, Number(port), host, (e) => (e ? reject(e) : resolve())));
      }
    } finally {
      socket.close();
    }
    const { value } = await otlpd.waitForMetric('otlpd_receiver_udp_dropped_packets_total',
      { receiver: 'jaeger', protocol: 'thrift_compact', reason: 'malformed' }, 2);
    assert.equal(value, 2);
    const metrics = await otlpd.scrapeMetrics();
    assert.match(metrics, /otlpd_receiver_malformed_requests_total\{receiver="jaeger",transport="http"\} 2/);
    // Still serving.
    const health = await otlpd.httpGet('health_check', '/');
    assert.equal(health.status, 200);
  }));
