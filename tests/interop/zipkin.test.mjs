// Zipkin interop: clients nobody here wrote send to otlpd's zipkin receiver — the OpenTelemetry JS
// SDK's @opentelemetry/exporter-zipkin (JSON v2) and Zipkin's own tracer (npm `zipkin` +
// `zipkin-transport-http`, JSON v2 and v1) — and the spans read back from the store (through the
// query port) are checked field by field; OTLP → zipkin exporter (JSON and proto) → zipkin
// receiver → OTLP comes back equal up to the fields docs/INTEROP.md lists as lossy; Zipkin's read
// API answers from the store; bad bodies get a 400 with a message.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';

import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import zipkin from 'zipkin';
import { HttpLogger } from 'zipkin-transport-http';

import { makeCertificates } from './lib/certs.mjs';
import { S, attributes, hrNanos, int64, parseJsonLossless } from './lib/otlp-json.mjs';
import { startOtlpd } from './lib/otlpd.mjs';

const KIND = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };

/**
 * otlpd with the zipkin receiver → store and the query port on; with `forwardTo`, instead an OTLP
 * receiver → zipkin exporter to that URL (in `format`).
 */
function config({ forwardTo = null, format = 'json', tls = null } = {}) {
  return (dir) => {
    const q = (s) => JSON.stringify(s);
    const data = path.join(dir, 'data');
    const common = `extensions:
  health_check: { endpoint: "127.0.0.1:0" }
  jaeger_query: { endpoint: "127.0.0.1:0", store: { directory: ${q(data)} } }
service:
  extensions: [health_check, jaeger_query]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
  pipelines:
`;
    const otlp = `  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0" }
`;
    if (forwardTo) {
      return `receivers:
${otlp}exporters:
  zipkin/out: { endpoint: ${q(forwardTo)}, format: ${format}, retry_on_failure: { enabled: false } }
${common}    traces: { receivers: [otlp], exporters: [zipkin/out] }
`;
    }
    return `receivers:
${otlp}  zipkin:
    endpoint: "127.0.0.1:0"
    include_metadata: true
    cors: { allowed_origins: ["http://app.example"], max_age: 60 }
${tls ? `    tls: { cert_file: ${q(tls.cert)}, key_file: ${q(tls.key)} }\n` : ''}exporters:
  store: { directory: ${q(data)}, write_interval: 50ms }
${common}    traces: { receivers: [otlp, zipkin], exporters: [store] }
`;
  };
}

async function withZipkinOtlpd(fn, opts) {
  const otlpd = await startOtlpd({ config: config(opts), extraReadyKeys: ['zipkin.http', 'jaeger_query'] });
  try {
    await fn(otlpd);
  } catch (e) {
    e.message += `\n${otlpd.describe()}`;
    throw e;
  } finally {
    await otlpd.stop(5000);
    otlpd.cleanup();
  }
}

const zipkinUrl = (otlpd, p = '/api/v2/spans') => otlpd.url('zipkin.http', p);

async function getJson(otlpd, p) {
  const res = await fetch(otlpd.url('jaeger_query', p), { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return { status: res.status, body: text ? parseJsonLossless(text) : null, text };
}

/** The stored trace as OTLP/JSON spans [{resource, scope, span}], once it has `count` spans. */
async function storedTrace(otlpd, traceId, count) {
  const deadline = Date.now() + 10000;
  let last = null;
  while (Date.now() < deadline) {
    const { status, body } = await getJson(otlpd, `/api/v3/traces/${traceId}`);
    if (status === 200) {
      const out = [];
      for (const rs of body.result.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const span of ss.spans ?? []) out.push({ resource: rs.resource, scope: ss.scope ?? {}, span });
        }
      }
      last = out;
      if (out.length >= count) return out;
    }
    await sleep(100);
  }
  assert.fail(`trace ${traceId} did not reach ${count} spans in the store: ${JSON.stringify(last)}`);
}

async function post(url, body, contentType = 'application/json', extraHeaders = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...extraHeaders },
    body,
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, text: await res.text() };
}

const nanos = (span, field) => int64(span[field], field);

/** One request with node:http (fetch does not let a script set Origin): {status, headers, text}. */
function rawRequest(url, method, headers, body = '') {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

test('@opentelemetry/exporter-zipkin → zipkin receiver → store, field by field', { timeout: 60000 }, async () => {
  await withZipkinOtlpd(async (otlpd) => {
    const exporter = new ZipkinExporter({ url: zipkinUrl(otlpd) });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'zk-js', 'service.version': '1.2.3', 'host.name': 'web-1' }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('zk-js-lib', '0.1.0');
    const start = [1700000000, 123456000];
    const root = tracer.startSpan('GET /orders', {
      kind: SpanKind.SERVER,
      startTime: start,
      attributes: { 'http.request.method': 'GET', 'http.response.status_code': 500, 'app.cached': false },
    }, ROOT_CONTEXT);
    root.addEvent('cache.miss', { key: 'orders' }, [1700000000, 200000000]);
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    const child = tracer.startSpan('SELECT orders', {
      kind: SpanKind.CLIENT,
      startTime: [1700000000, 130000000],
      attributes: { 'peer.service': 'postgres', 'db.system': 'postgresql' },
    }, trace.setSpan(ROOT_CONTEXT, root));
    // The database's own span, from another service: a dependency zk-js → zk-db that failed.
    const dbProvider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'zk-db' }),
      spanProcessors: [new SimpleSpanProcessor(new ZipkinExporter({ url: zipkinUrl(otlpd) }))],
    });
    const db = dbProvider.getTracer('db').startSpan('query', {
      kind: SpanKind.SERVER, startTime: [1700000000, 131000000],
    }, trace.setSpan(ROOT_CONTEXT, child));
    db.setStatus({ code: SpanStatusCode.ERROR });
    db.end([1700000000, 179000000]);
    await dbProvider.forceFlush();
    await dbProvider.shutdown();
    child.end([1700000000, 180000000]);
    const local = tracer.startSpan('render', { startTime: [1700000000, 190000000] }, trace.setSpan(ROOT_CONTEXT, root));
    local.end([1700000000, 195000000]);
    root.end([1700000000, 373456000]);
    await provider.forceFlush();
    await provider.shutdown();

    const traceId = root.spanContext().traceId;
    const spans = await storedTrace(otlpd, traceId, 4);
    const byName = Object.fromEntries(spans.map((s) => [s.span.name, s]));
    assert.equal(byName.query.span.status.code, 2, 'ERROR without a message');

    const r = byName['GET /orders'];
    // The JS exporter sends the resource's attributes as tags on every span: they go back to the
    // resource; service.name comes from localEndpoint.serviceName.
    assert.deepEqual(attributes(r.resource.attributes),
      { 'service.name': S('zk-js'), 'service.version': S('1.2.3'), 'host.name': S('web-1') });
    assert.equal(r.span.traceId, traceId);
    assert.equal(r.span.spanId, root.spanContext().spanId);
    assert.ok(!r.span.parentSpanId, 'a root span has no parent');
    assert.equal(r.span.kind, KIND.SERVER);
    assert.equal(nanos(r.span, 'startTimeUnixNano'), hrNanos(start));
    assert.equal(nanos(r.span, 'endTimeUnixNano'), hrNanos(start) + 250000000n);
    // Zipkin tags are strings: so are the attributes that come back.
    assert.deepEqual(attributes(r.span.attributes), {
      'http.request.method': S('GET'),
      'http.response.status_code': S('500'),
      'app.cached': S('false'),
    });
    assert.equal(r.span.status.code, 2);
    assert.equal(r.span.status.message, 'boom');
    assert.equal(r.span.events.length, 1);
    assert.equal(r.span.events[0].name, 'cache.miss');
    assert.equal(int64(r.span.events[0].timeUnixNano), 1700000000200000000n);

    const c = byName['SELECT orders'];
    assert.equal(c.span.parentSpanId, root.spanContext().spanId);
    assert.equal(c.span.kind, KIND.CLIENT);
    assert.equal(nanos(c.span, 'endTimeUnixNano') - nanos(c.span, 'startTimeUnixNano'), 50000000n);
    assert.deepEqual(attributes(c.span.attributes), { 'peer.service': S('postgres'), 'db.system': S('postgresql') });
    assert.ok(!c.span.status?.code, 'UNSET status stays unset');

    // INTERNAL has no Zipkin kind and the JS exporter adds no span.kind tag: unspecified.
    assert.equal(byName.render.span.kind ?? 0, KIND.UNSPECIFIED);

    // Zipkin's read API over the same store.
    assert.deepEqual((await getJson(otlpd, '/zipkin/api/v2/services')).body, ['zk-db', 'zk-js']);
    assert.deepEqual((await getJson(otlpd, '/zipkin/api/v2/dependencies?endTs=1700000001000&lookback=60000')).body,
      [{ parent: 'zk-js', child: 'zk-db', callCount: 1, errorCount: 1 }]);
    assert.deepEqual((await getJson(otlpd, '/zipkin/api/v2/spans?serviceName=zk-js')).body,
      ['GET /orders', 'SELECT orders', 'render']);
    const one = await getJson(otlpd, `/zipkin/api/v2/trace/${traceId}`);
    assert.equal(one.status, 200);
    const z = Object.fromEntries(one.body.map((s) => [s.name, s]));
    assert.equal(z['GET /orders'].traceId, traceId);
    assert.equal(z['GET /orders'].kind, 'SERVER');
    assert.equal(z['GET /orders'].timestamp, 1700000000123456);
    assert.equal(z['GET /orders'].duration, 250000);
    assert.equal(z['GET /orders'].localEndpoint.serviceName, 'zk-js');
    assert.equal(z['GET /orders'].tags.error, 'boom');
    assert.equal(z['GET /orders'].tags['otel.status_code'], 'ERROR');
    assert.equal(z['SELECT orders'].remoteEndpoint.serviceName, 'postgres');
    assert.equal(z['SELECT orders'].parentId, root.spanContext().spanId);
    const found = await getJson(otlpd,
      '/zipkin/api/v2/traces?serviceName=zk-js&spanName=GET%20%2Forders&endTs=1700000001000&lookback=60000&limit=5');
    assert.equal(found.status, 200, found.text);
    assert.equal(found.body.length, 1);
    assert.equal(found.body[0].length, 4);
    const byTag = await getJson(otlpd,
      '/zipkin/api/v2/traces?serviceName=zk-js&annotationQuery=http.request.method%3DGET%20and%20cache.miss&endTs=1700000001000&lookback=60000');
    assert.equal(byTag.body.length, 1, byTag.text);
    const none = await getJson(otlpd,
      '/zipkin/api/v2/traces?serviceName=zk-js&minDuration=300000&endTs=1700000001000&lookback=60000');
    assert.deepEqual(none.body, []);
    assert.deepEqual((await getJson(otlpd, '/zipkin/api/v2/remoteServices?serviceName=zk-js')).status, 200);
    assert.equal((await getJson(otlpd, '/zipkin/api/v2/trace/00000000000000000000000000000abc')).status, 404);
    assert.equal((await getJson(otlpd, '/zipkin/api/v2/traces?limit=x')).status, 400);
  });
});

test("Zipkin's own tracer (zipkin + zipkin-transport-http), JSON v2 and v1 → store", { timeout: 60000 }, async () => {
  await withZipkinOtlpd(async (otlpd) => {
    const { Annotation, BatchRecorder, ExplicitContext, InetAddress, Tracer, jsonEncoder } = zipkin;
    const record = async (encoder, endpointPath, serviceName) => {
      const logger = new HttpLogger({ endpoint: zipkinUrl(otlpd, endpointPath), jsonEncoder: encoder, httpInterval: 50 });
      const errors = [];
      logger.on('error', (e) => errors.push(e));
      const tracer = new Tracer({ ctxImpl: new ExplicitContext(), recorder: new BatchRecorder({ logger }), localServiceName: serviceName });
      const before = Date.now() * 1000;
      const rootId = tracer.createRootId();
      tracer.setId(rootId);
      tracer.recordServiceName(serviceName);
      tracer.recordRpc('get /orders');
      tracer.recordAnnotation(new Annotation.ServerRecv());
      tracer.recordAnnotation(new Annotation.LocalAddr({ host: new InetAddress('10.1.2.3'), port: 8080 }));
      tracer.recordBinary('http.path', '/orders');
      tracer.recordMessage('validated');
      const childId = tracer.createChildId();
      tracer.setId(childId);
      tracer.recordServiceName(serviceName);
      tracer.recordRpc('get /stock');
      tracer.recordAnnotation(new Annotation.ClientSend());
      tracer.recordAnnotation(new Annotation.ServerAddr({ serviceName: 'inventory', host: new InetAddress('10.9.8.7'), port: 9000 }));
      tracer.recordBinary('error', 'stock service down');
      await sleep(5);
      tracer.recordAnnotation(new Annotation.ClientRecv());
      tracer.setId(rootId);
      await sleep(5);
      tracer.recordAnnotation(new Annotation.ServerSend());
      const after = Date.now() * 1000 + 1000;
      const traceId = rootId.traceId.padStart(32, '0');
      const spans = await storedTrace(otlpd, traceId, 2);
      assert.deepEqual(errors, [], 'the HTTP logger reported no errors');
      return { spans, before, after, rootId, childId };
    };

    for (const [encoder, endpointPath, serviceName] of [
      [jsonEncoder.JSON_V2, '/api/v2/spans', 'zk-native-v2'],
      [jsonEncoder.JSON_V1, '/api/v1/spans', 'zk-native-v1'],
    ]) {
      const { spans, before, after, rootId, childId } = await record(encoder, endpointPath, serviceName);
      const what = `${serviceName}:`;
      const server = spans.find((s) => s.span.spanId === rootId.spanId);
      const client = spans.find((s) => s.span.spanId === childId.spanId);
      assert.ok(server && client, `${what} both spans stored: ${JSON.stringify(spans)}`);
      assert.deepEqual(attributes(server.resource.attributes), { 'service.name': S(serviceName) }, what);
      assert.equal(server.span.name, 'get /orders', what);
      assert.equal(server.span.kind, KIND.SERVER, what);
      assert.ok(!server.span.parentSpanId, `${what} root`);
      const start = nanos(server.span, 'startTimeUnixNano');
      // zipkin-js keeps its own clock (wall time at start plus a monotonic offset): a second of
      // slack either side.
      assert.ok(start >= BigInt(before - 1000000) * 1000n && start <= BigInt(after + 1000000) * 1000n,
        `${what} start ${start} ns near [${before}, ${after}] µs`);
      assert.ok(nanos(server.span, 'endTimeUnixNano') > start, `${what} end after start`);
      const serverAttrs = attributes(server.span.attributes);
      assert.deepEqual(serverAttrs['http.path'], S('/orders'), what);
      assert.deepEqual(serverAttrs['network.local.address'], S('10.1.2.3'), what);
      assert.equal(serverAttrs['network.local.port'].int, 8080n, what);
      assert.deepEqual(server.span.events.map((e) => e.name), ['validated'], what);

      assert.equal(client.span.parentSpanId, rootId.spanId, what);
      assert.equal(client.span.kind, KIND.CLIENT, what);
      assert.equal(client.span.name, 'get /stock', what);
      const clientAttrs = attributes(client.span.attributes);
      assert.deepEqual(clientAttrs['peer.service'], S('inventory'), what);
      assert.deepEqual(clientAttrs['network.peer.address'], S('10.9.8.7'), what);
      assert.equal(clientAttrs['network.peer.port'].int, 9000n, what);
      // Zipkin's error tag is the span's failure: status ERROR with the tag's text.
      assert.equal(client.span.status.code, 2, what);
      assert.equal(client.span.status.message, 'stock service down', what);
      assert.ok(!('error' in clientAttrs), `${what} the error tag became the status`);
    }
  });
});

/** An OTLP/JSON request with what the Zipkin mapping can and cannot carry. */
function roundTripRequest() {
  const t = (ms) => String(1700000000000000000n + BigInt(ms) * 1000000n);
  const str = (key, v) => ({ key, value: { stringValue: v } });
  return {
    resourceSpans: [{
      resource: { attributes: [str('service.name', 'rt-svc'), str('host.name', 'rt-host'), { key: 'process.pid', value: { intValue: '42' } }] },
      scopeSpans: [{
        scope: { name: 'rt-lib', version: '2.0' },
        spans: [{
          traceId: '0af7651916cd43dd8448eb211c80319c',
          spanId: 'b7ad6b7169203331',
          traceState: 'vendor=1',
          name: 'checkout',
          kind: KIND.SERVER,
          startTimeUnixNano: t(0),
          endTimeUnixNano: t(120),
          attributes: [str('http.route', '/checkout'), { key: 'retries', value: { intValue: '3' } },
            { key: 'ratio', value: { doubleValue: 0.25 } }, { key: 'ok', value: { boolValue: true } }],
          events: [{ timeUnixNano: t(10), name: 'validated', attributes: [str('rule', 'basic'), { key: 'n', value: { intValue: '2' } }] },
            { timeUnixNano: t(20), name: 'plain' }],
          links: [{ traceId: '1af7651916cd43dd8448eb211c80319c', spanId: 'c7ad6b7169203331', attributes: [str('why', 'batch')] }],
          status: { code: 2, message: 'card declined' },
        }, {
          traceId: '0af7651916cd43dd8448eb211c80319c',
          spanId: 'a1ad6b7169203331',
          parentSpanId: 'b7ad6b7169203331',
          name: 'charge',
          kind: KIND.CLIENT,
          startTimeUnixNano: t(5),
          endTimeUnixNano: t(100),
          attributes: [str('peer.service', 'payments'), str('network.peer.address', '192.0.2.10'), { key: 'network.peer.port', value: { intValue: '443' } }],
          status: { code: 1 },
        }, {
          traceId: '0000000000000000a448eb211c80319c',
          spanId: 'f1ad6b7169203331',
          name: 'tick',
          kind: KIND.INTERNAL,
          startTimeUnixNano: t(30),
          endTimeUnixNano: t(31),
        }],
      }],
    }],
  };
}

/** Spans as comparable objects, with the documented lossy fields normalised: attribute values
 * become their string forms (Zipkin tags are strings), event attribute ints stay ints. */
function normalised(spans) {
  const strForm = (v) => {
    if ('string' in v) return v.string;
    if ('int' in v) return String(v.int);
    if ('double' in v) return String(v.double);
    if ('bool' in v) return String(v.bool);
    return JSON.stringify(v);
  };
  const strAttrs = (list) => Object.fromEntries(Object.entries(attributes(list)).map(([k, v]) => [k, strForm(v)]));
  return spans.map(({ resource, scope, span }) => ({
    resource: strAttrs(resource?.attributes),
    scope: { name: scope?.name ?? '', version: scope?.version ?? '' },
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId || '',
    traceState: span.traceState || '',
    name: span.name,
    kind: span.kind ?? 0,
    start: String(int64(span.startTimeUnixNano)),
    end: String(int64(span.endTimeUnixNano)),
    attributes: strAttrs(span.attributes),
    events: (span.events ?? []).map((e) => ({ time: String(int64(e.timeUnixNano)), name: e.name, attributes: attributes(e.attributes) })),
    links: (span.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attributes(l.attributes) })),
    status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
  })).sort((a, b) => a.spanId.localeCompare(b.spanId));
}

for (const format of ['json', 'proto']) {
  test(`round trip: OTLP → zipkin exporter (${format}) → zipkin receiver → OTLP`, { timeout: 60000 }, async () => {
    await withZipkinOtlpd(async (downstream) => {
      const upstream = await startOtlpd({
        config: config({ forwardTo: zipkinUrl(downstream), format }),
        extraReadyKeys: ['jaeger_query'],
      });
      try {
        const request = roundTripRequest();
        const res = await post(upstream.url('otlp.http', '/v1/traces'), JSON.stringify(request));
        assert.equal(res.status, 200, res.text);
        const back = [
          ...await storedTrace(downstream, '0af7651916cd43dd8448eb211c80319c', 2),
          ...await storedTrace(downstream, '0000000000000000a448eb211c80319c', 1),
        ];
        const sent = request.resourceSpans[0].scopeSpans[0].spans.map((span) => ({
          resource: request.resourceSpans[0].resource, scope: request.resourceSpans[0].scopeSpans[0].scope, span,
        }));
        assert.deepEqual(normalised(back), normalised(sent));
      } finally {
        await upstream.stop(5000);
        upstream.cleanup();
      }
    });
  });
}

test('bad Zipkin bodies: 400 with a message, nothing stored; unknown fields are skipped', { timeout: 60000 }, async () => {
  await withZipkinOtlpd(async (otlpd) => {
    const url = zipkinUrl(otlpd);
    const span = { traceId: '5982fe77008310cc80f1da5e10147517', id: '67fae42571535f60', name: 'x', timestamp: 1700000000000000, duration: 5 };
    const cases = [
      [{ ...span, traceId: 12 }, /traceId/],
      [{ ...span, traceId: '5982fe77008310cc80f1da5e1014751700' }, /traceId/],
      [{ ...span, id: 'xyz' }, /id must be/],
      [{ ...span, timestamp: 1700000000000000000 }, /not in microseconds/],
      [{ ...span, duration: 'long' }, /duration/],
      [{ ...span, kind: 'SIDEWAYS' }, /kind/],
      [{ ...span, tags: { a: { nested: 1 } } }, /tag 'a'/],
      [{ ...span, localEndpoint: { port: 70000 } }, /port/],
      [{ name: 'no ids' }, /traceId is required/],
    ];
    for (const [body, message] of cases) {
      const res = await post(url, JSON.stringify([body]));
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status} ${res.text}`);
      assert.match(res.text, message);
    }
    assert.equal((await post(url, '[{"traceId":')).status, 400);
    assert.equal((await post(url, '{"not":"a list"}')).status, 400);
    // A ListOfSpans whose span field is cut short.
    assert.equal((await post(url, Buffer.from([0x0a, 0x05, 0x0a]), 'application/x-protobuf')).status, 400);
    assert.equal((await post(url, '[]', 'text/csv')).status, 415);
    assert.equal((await fetch(url, { signal: AbortSignal.timeout(5000) })).status, 405);
    // Unknown fields, as Zipkin's own server does: skipped.
    const ok = await post(url, JSON.stringify([{ ...span, futureField: { a: [1, 2] } }]));
    assert.equal(ok.status, 202, ok.text);
    const stored = await storedTrace(otlpd, span.traceId, 1);
    assert.equal(stored.length, 1, 'only the good span is stored');
    // A browser's zipkin-js posting from an allowed origin: preflight, then the POST.
    const pre = await rawRequest(url, 'OPTIONS',
      { origin: 'http://app.example', 'access-control-request-method': 'POST' });
    assert.equal(pre.status, 204, pre.text);
    assert.equal(pre.headers['access-control-allow-origin'], 'http://app.example');
    assert.equal(pre.headers['access-control-max-age'], '60');
    const cross = await rawRequest(url, 'POST', { origin: 'http://app.example', 'content-type': 'application/json' },
      JSON.stringify([{ ...span, id: '67fae42571535f61' }]));
    assert.equal(cross.status, 202, cross.text);
    assert.equal(cross.headers['access-control-allow-origin'], 'http://app.example');
    const other = await rawRequest(url, 'OPTIONS', { origin: 'http://evil.example' });
    assert.equal(other.status, 405);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const metrics = await (await fetch(otlpd.url('telemetry.metrics', '/metrics'))).text();
    assert.match(metrics, /otlpd_receiver_malformed_requests_total\{receiver="zipkin",transport="http"\} 13\b/);
    assert.ok(fs.existsSync(otlpd.configPath));
  });
});

test('the zipkin receiver over TLS (the listener settings of the otlp receiver)', { timeout: 60000 }, async () => {
  const certs = makeCertificates();
  try {
    await withZipkinOtlpd(async (otlpd) => {
      const span = { traceId: '6982fe77008310cc80f1da5e10147517', id: '77fae42571535f60', name: 'tls', timestamp: 1700000000000000, duration: 5 };
      const body = JSON.stringify([span]);
      const send = (ca) => new Promise((resolve, reject) => {
        const req = https.request(zipkinUrl(otlpd).replace('http://', 'https://'), {
          method: 'POST', ca, headers: { 'content-type': 'application/json' }, timeout: 5000,
        }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(await send(certs.read('ca.pem')), 202);
      await assert.rejects(send(certs.read('other-ca.pem')), /certificate/i);
      const stored = await storedTrace(otlpd, span.traceId, 1);
      assert.equal(stored[0].span.name, 'tls');
    }, { tls: { cert: certs.path('server.pem'), key: certs.path('server.key') } });
  } finally {
    certs.cleanup();
  }
});

test('zipkin exporter: headers, gzip, and a 503 retried until the Zipkin server takes it', { timeout: 60000 }, async () => {
  // A stand-in Zipkin collector: refuses the first POST (503), accepts the next ones (202).
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, url: req.url, body: Buffer.concat(chunks) });
      if (received.length === 1) {
        res.writeHead(503, { 'retry-after': '0' });
        res.end('busy');
      } else {
        res.writeHead(202);
        res.end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/api/v2/spans`;
  const configYaml = (dir) => config({ forwardTo: url })(dir).replace(
    'retry_on_failure: { enabled: false }',
    'retry_on_failure: { enabled: true, initial_interval: 50ms }, compression: gzip, headers: { x-tenant: acme }, default_service_name: unnamed');
  const upstream = await startOtlpd({ config: configYaml, extraReadyKeys: ['jaeger_query'] });
  try {
    const request = {
      resourceSpans: [{
        resource: { attributes: [] },
        scopeSpans: [{ spans: [{
          traceId: '1af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'retry-me', kind: KIND.CLIENT,
          startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000001000000',
          attributes: [{ key: 'server.address', value: { stringValue: 'payments.internal' } }],
        }] }],
      }],
    };
    const res = await post(upstream.url('otlp.http', '/v1/traces'), JSON.stringify(request));
    assert.equal(res.status, 200, res.text);
    const deadline = Date.now() + 10000;
    while (received.length < 2 && Date.now() < deadline) await sleep(50);
    assert.equal(received.length, 2, 'one refused attempt, then the retry');
    const last = received[1];
    assert.equal(last.url, '/api/v2/spans');
    assert.equal(last.headers['content-type'], 'application/json');
    assert.equal(last.headers['content-encoding'], 'gzip');
    assert.equal(last.headers['x-tenant'], 'acme');
    const spans = JSON.parse(zlib.gunzipSync(last.body).toString('utf8'));
    assert.equal(spans.length, 1);
    assert.equal(spans[0].traceId, '1af7651916cd43dd8448eb211c80319c');
    assert.equal(spans[0].name, 'retry-me');
    assert.equal(spans[0].kind, 'CLIENT');
    assert.equal(spans[0].timestamp, 1700000000000000);
    assert.equal(spans[0].duration, 1000);
    assert.equal(spans[0].localEndpoint.serviceName, 'unnamed');
    // A client span names its remote service by the specification's ranking.
    assert.equal(spans[0].remoteEndpoint.serviceName, 'payments.internal');
    assert.deepEqual(JSON.parse(zlib.gunzipSync(received[0].body).toString('utf8')), spans, 'the retry sends the same spans');
  } finally {
    await upstream.stop(5000);
    upstream.cleanup();
    await new Promise((resolve) => server.close(resolve));
  }
});
