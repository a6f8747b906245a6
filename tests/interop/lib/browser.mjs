// Browser tests of the web UI: otlpd with the store and the jaeger_query extension (which serves
// the embedded UI), Debian's headless Chromium driven by npm playwright-core, telemetry sent with
// the official OpenTelemetry JS SDK, and screenshots kept as test artifacts.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { chromium } from 'playwright-core';

import { assertAllExportsSucceeded, createExporter, recordingExporter } from './exporters.mjs';
import { withOtlpd } from './otlpd.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// Exactly the flags the project runs Chromium with; playwright adds its own automation flags.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

export function chromiumPath() {
  const bin = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
  if (!fs.existsSync(bin)) {
    throw new Error(`no Chromium at ${bin}: install Debian's chromium (scripts/setup.sh) or set CHROMIUM_BIN`);
  }
  return bin;
}

/** Where screenshots go: $OTLPD_TEST_ARTIFACTS, else <repo>/build/test-artifacts/ui. */
export function artifactDir() {
  const dir = process.env.OTLPD_TEST_ARTIFACTS || path.join(REPO, 'build', 'test-artifacts', 'ui');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function uiConfig(dir) {
  const q = (s) => JSON.stringify(s);
  const data = path.join(dir, 'data');
  return `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0", max_request_body_size: 67108864 }
exporters:
  store:
    directory: ${q(data)}
    write_interval: 200ms
extensions:
  health_check: { endpoint: "127.0.0.1:0" }
  jaeger_query:
    endpoint: "127.0.0.1:0"
    store: { directory: ${q(data)} }
service:
  extensions: [health_check, jaeger_query]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
  pipelines:
    traces: { receivers: [otlp], exporters: [store] }
    metrics: { receivers: [otlp], exporters: [store] }
    logs: { receivers: [otlp], exporters: [store] }
`;
}

/**
 * Runs fn({otlpd, browser, baseUrl}) with a fresh otlpd (store + UI) and a headless Chromium;
 * both are stopped afterwards, also on failure.
 */
export async function withUi(fn) {
  return withOtlpd(async (otlpd) => {
    const browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30000,
    });
    try {
      return await fn({ otlpd, browser, baseUrl: otlpd.url('jaeger_query') });
    } finally {
      await browser.close().catch(() => {});
    }
  }, { config: uiConfig, extraReadyKeys: ['jaeger_query'] });
}

/**
 * A page that records script errors and refuses (and records) every request that leaves the
 * otlpd origin: the UI must work offline.
 */
export async function openPage(browser, baseUrl, { width = 1400, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const problems = { pageErrors: [], consoleErrors: [], external: [] };
  const origin = new URL(baseUrl).origin;
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith('data:')) return route.continue();
    problems.external.push(url);
    return route.abort();
  });
  page.on('pageerror', (e) => problems.pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.consoleErrors.push(m.text());
  });
  return { page, context, problems };
}

/** No uncaught script error, no Content-Security-Policy violation, no request to another origin. */
export function assertCleanPage(problems) {
  assert.deepEqual(problems.pageErrors, [], 'uncaught errors in the page');
  assert.deepEqual(problems.consoleErrors.filter((m) => /Content Security Policy/i.test(m)), [], 'CSP violations');
  assert.deepEqual(problems.external, [], 'the UI tried to reach another origin');
}

export async function screenshot(page, name) {
  const file = path.join(artifactDir(), `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Polls fn() until it answers a truthy value (returned) or timeoutMs passes (throws with `what`). */
export async function eventually(fn, what, { timeoutMs = 15000, intervalMs = 150 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 500)})`);
}

/** GET a JSON API path from otlpd's query endpoint. */
export async function apiGet(otlpd, pathname) {
  const r = await otlpd.httpGet('jaeger_query', pathname, 10000);
  let body = null;
  try {
    body = JSON.parse(r.body);
  } catch {
    // leave null
  }
  return { status: r.status, body, text: r.body };
}

// --- telemetry from the official JS SDK --------------------------------------------------------

const msToHr = (ms) => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/** One tracer per service (each SDK process has one resource), all exporting over http/json. */
async function tracers(otlpd, services) {
  const out = {};
  const providers = [];
  const allCalls = [];
  for (const name of services) {
    const { exporter, calls } = recordingExporter(await createExporter('traces', 'http/json', otlpd));
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': name, 'service.version': '1.2.3', 'deployment.environment.name': 'test' }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    out[name] = provider.getTracer('otlpd-ui-test', '1.0.0');
    providers.push(provider);
    allCalls.push(calls);
  }
  const finish = async () => {
    for (const p of providers) {
      await p.forceFlush();
      await p.shutdown();
    }
    allCalls.forEach((c, i) => assertAllExportsSucceeded(c, `trace exporter of ${services[i]}`));
  };
  return { tracer: out, finish };
}

/**
 * The shop scenario, sent with the SDK: one trace over three services, a linked trace, log
 * records inside spans, and metrics. Answers what a test checks against, incl. the expected
 * waterfall rows in display order as [name, depth].
 */
export async function sendShopScenario(otlpd) {
  const t0 = Date.now() - 20000;
  const at = (ms) => msToHr(t0 + ms);
  const { tracer, finish } = await tracers(otlpd, ['ui-frontend', 'ui-checkout', 'ui-linked']);

  const linked = tracer['ui-linked'].startSpan('linked batch job', { kind: SpanKind.CONSUMER, startTime: at(0) }, ROOT_CONTEXT);
  linked.end(at(4));

  const root = tracer['ui-frontend'].startSpan('GET /checkout', {
    kind: SpanKind.SERVER,
    startTime: at(10),
    attributes: { 'http.request.method': 'GET', 'url.path': '/checkout', 'http.route': '/checkout', 'http.response.status_code': 200, 'user.tier': 'gold' },
    links: [{ context: linked.spanContext(), attributes: { 'link.reason': 'triggered-by' } }],
  }, ROOT_CONTEXT);
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
  const call = tracer['ui-frontend'].startSpan('POST checkout', {
    kind: SpanKind.CLIENT, startTime: at(12), attributes: { 'http.request.method': 'POST', 'server.address': 'checkout' },
  }, rootCtx);
  const callCtx = trace.setSpan(rootCtx, call);
  const handler = tracer['ui-checkout'].startSpan('POST /api/checkout', {
    kind: SpanKind.SERVER, startTime: at(14),
    attributes: { 'http.request.method': 'POST', 'http.route': '/api/checkout', 'http.response.status_code': 502, 'order.items': 3 },
  }, callCtx);
  const handlerCtx = trace.setSpan(callCtx, handler);
  const query = tracer['ui-checkout'].startSpan('SELECT orders', {
    kind: SpanKind.CLIENT, startTime: at(16),
    attributes: { 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT', 'db.collection.name': 'orders', 'db.query.text': 'SELECT * FROM orders WHERE id = $1' },
  }, handlerCtx);
  query.end(at(30));
  const charge = tracer['ui-checkout'].startSpan('charge card', { kind: SpanKind.INTERNAL, startTime: at(32), attributes: { 'payment.provider': 'acme' } }, handlerCtx);
  charge.addEvent('payment.retry', { 'retry.attempt': 2 }, at(40));
  charge.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
  charge.end(at(70));
  handler.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream payment failed' });
  handler.end(at(75));
  call.end(at(76));
  const render = tracer['ui-frontend'].startSpan('render page', { kind: SpanKind.INTERNAL, startTime: at(78) }, rootCtx);
  render.end(at(90));
  root.end(at(95));
  await finish();

  // Log records with trace context, from the checkout service.
  const { exporter: logExporter, calls: logCalls } = recordingExporter(await createExporter('logs', 'http/json', otlpd));
  const loggerProvider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'ui-checkout' }),
    processors: [new SimpleLogRecordProcessor({ exporter: logExporter })],
  });
  const logger = loggerProvider.getLogger('otlpd-ui-test', '1.0.0');
  const logs = [
    { body: 'order received for user 42', severityNumber: SeverityNumber.INFO, severityText: 'INFO', timestamp: t0 + 15, context: handlerCtx, attributes: { 'order.id': 'o-1' } },
    { body: 'card declined by acme', severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', timestamp: t0 + 50, context: trace.setSpan(handlerCtx, charge), attributes: { 'payment.code': 'D42' } },
    { body: 'cache warm-up finished', severityNumber: SeverityNumber.DEBUG, severityText: 'DEBUG', timestamp: t0 + 5, context: ROOT_CONTEXT },
  ];
  for (const r of logs) logger.emit(r);
  await loggerProvider.forceFlush();
  await loggerProvider.shutdown();
  assertAllExportsSucceeded(logCalls, 'log exporter');

  // Metrics: three collections of a counter and a histogram, so a line has several points.
  const { exporter: metricExporter, calls: metricCalls } = recordingExporter(await createExporter('metrics', 'http/json', otlpd));
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 600000, exportTimeoutMillis: 10000 });
  const meterProvider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'ui-checkout' }), readers: [reader] });
  const meter = meterProvider.getMeter('otlpd-ui-test', '1.0.0');
  const orders = meter.createCounter('ui.orders', { description: 'orders placed', unit: '{order}' });
  const latency = meter.createHistogram('ui.checkout.duration', { unit: 'ms' });
  for (let round = 0; round < 3; round++) {
    orders.add(2 + round, { 'payment.method': 'card' });
    orders.add(1, { 'payment.method': 'invoice' });
    latency.record(40 + 10 * round, { 'http.route': '/api/checkout' });
    await reader.forceFlush();
    await sleep(120);
  }
  await meterProvider.shutdown();
  assertAllExportsSucceeded(metricCalls, 'metric exporter');

  return {
    traceID: root.spanContext().traceId,
    linkedTraceID: linked.spanContext().traceId,
    spanIDs: {
      root: root.spanContext().spanId,
      handler: handler.spanContext().spanId,
      charge: charge.spanContext().spanId,
    },
    rows: [
      ['GET /checkout', 0], ['POST checkout', 1], ['POST /api/checkout', 2], ['SELECT orders', 3], ['charge card', 3], ['render page', 1],
    ],
    logBodies: logs.filter((r) => r.context !== ROOT_CONTEXT).map((r) => r.body),
  };
}

/** Markup and script in every text the UI shows: span name, attribute value, log body, event. */
export const XSS = {
  img: '<img src=x onerror="window.__xss=1">',
  script: '<script>window.__xss=1</script>',
  svg: '<svg onload="window.__xss=1"></svg>',
};

export async function sendHostileScenario(otlpd) {
  const t0 = Date.now() - 10000;
  const { tracer, finish } = await tracers(otlpd, ['ui-hostile']);
  const root = tracer['ui-hostile'].startSpan(XSS.img, {
    kind: SpanKind.SERVER,
    startTime: msToHr(t0),
    attributes: { 'http.route': XSS.script, 'note': XSS.svg, [XSS.img]: 'attribute key with markup' },
  }, ROOT_CONTEXT);
  const child = tracer['ui-hostile'].startSpan(XSS.script, { startTime: msToHr(t0 + 2) }, trace.setSpan(ROOT_CONTEXT, root));
  child.addEvent(XSS.svg, { detail: XSS.img }, msToHr(t0 + 3));
  child.end(msToHr(t0 + 5));
  root.end(msToHr(t0 + 10));
  await finish();

  const { exporter, calls } = recordingExporter(await createExporter('logs', 'http/json', otlpd));
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'ui-hostile' }), processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('otlpd-ui-test');
  logger.emit({ body: XSS.img, severityNumber: SeverityNumber.WARN, severityText: 'WARN', timestamp: t0 + 4, context: trace.setSpan(ROOT_CONTEXT, child), attributes: { html: XSS.script } });
  logger.emit({ body: XSS.script, severityNumber: SeverityNumber.INFO, timestamp: t0 + 6, context: trace.setSpan(ROOT_CONTEXT, root) });
  await provider.forceFlush();
  await provider.shutdown();
  assertAllExportsSucceeded(calls, 'log exporter');
  return { traceID: root.spanContext().traceId };
}

// --- a 50,000-span trace, as OTLP/JSON ---------------------------------------------------------

const hex = (n, width) => n.toString(16).padStart(width, '0');

/**
 * A trace of `count` spans: a 4-ary tree (span i's parent is (i-1)/4), 3 services. Span i is
 * named "big-<i>". Answers the trace ID and the name of the span shown last in the waterfall
 * (the deepest last child).
 */
export async function sendBigTrace(otlpd, count = 50000, { chunk = 5000 } = {}) {
  const traceId = crypto.randomBytes(16).toString('hex');
  const base = BigInt(Date.now() - 60000) * 1000000n;
  const spanId = (i) => hex(i + 1, 16);
  const services = ['big-gateway', 'big-orders', 'big-stock'];
  for (let from = 0; from < count; from += chunk) {
    const byService = services.map(() => []);
    for (let i = from; i < Math.min(count, from + chunk); i++) {
      const start = base + BigInt(i) * 100000n; // 100 µs apart
      const end = start + 2000000n + (i === 0 ? BigInt(count) * 100000n : 0n);
      byService[i % services.length].push({
        traceId,
        spanId: spanId(i),
        parentSpanId: i === 0 ? '' : spanId(Math.floor((i - 1) / 4)),
        name: `big-${i}`,
        kind: i % 2 ? 3 : 2,
        startTimeUnixNano: start.toString(),
        endTimeUnixNano: end.toString(),
        attributes: [{ key: 'index', value: { intValue: String(i) } }],
        status: i % 997 === 0 && i ? { code: 2, message: 'sampled failure' } : {},
      });
    }
    const body = {
      resourceSpans: services.map((svc, k) => ({
        resource: { attributes: [{ key: 'service.name', value: { stringValue: svc } }] },
        scopeSpans: [{ scope: { name: 'otlpd-ui-big' }, spans: byService[k] }],
      })).filter((rs) => rs.scopeSpans[0].spans.length),
    };
    const res = await fetch(otlpd.url('otlp.http', '/v1/traces'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20000),
    });
    assert.equal(res.status, 200, `POST /v1/traces: ${res.status} ${await res.text()}`);
  }
  let last = 0;
  for (;;) {
    const lastChild = 4 * last + 4;
    const firstChild = 4 * last + 1;
    if (firstChild >= count) break;
    last = Math.min(lastChild, count - 1);
  }
  return { traceID: traceId, lastSpanName: `big-${last}`, count };
}
