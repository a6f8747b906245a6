// Issue #11: the official OpenTelemetry JS SDK sends traces (OTLP/HTTP, the tenant as an HTTP
// header) and logs (OTLP/gRPC, the tenant as gRPC metadata) to otlpd through every
// processor that changes telemetry — resourcedetection, resource, lookup, attributes (with
// from_context), filter, transform and redaction — and the file exporter's output is asserted
// exactly: what was added, changed, hashed, redacted and dropped. Then `otlpd validate` accepts an
// OpenTelemetry Collector config that uses these processors with the Collector's keys.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { assertAllExportsSucceeded, createExporter, recordingExporter } from './lib/exporters.mjs';
import { I, S, anyValue, attributes, logRecordsOf, resourceAttributes, spansOf } from './lib/otlp-json.mjs';
import { otlpdBinary, withOtlpd } from './lib/otlpd.mjs';

const SERVICE = 'otlpd-proc-checkout';
const CARD = '4111111111111111';
const CARD_PATTERN = '4[0-9]{12}(?:[0-9]{3})?';
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');

// Processors in the order a gateway runs them.
const PROCESSORS_YAML = `processors:
  resourcedetection:
    detectors: [env, system]
    system:
      hostname_sources: [os]
      resource_attributes:
        host.arch: { enabled: true }
  resource:
    attributes:
      - { key: deployment.environment, value: staging, action: upsert }
      - { key: telemetry.sdk.name, action: delete }
  lookup:
    file: "OWNERS"
    keys: [service.name]
  attributes:
    actions:
      - { key: user.email, action: hash }
      - { key: password, action: delete }
      - { key: tenant, from_context: metadata.x-tenant, action: insert }
  filter:
    error_mode: ignore
    traces:
      span:
        - 'name == "GET /health"'
    logs:
      log_record:
        - 'severity_number < SEVERITY_NUMBER_INFO'
  transform:
    error_mode: ignore
    trace_statements:
      - context: span
        statements:
          - 'set(attributes["http.route"], "/users/{id}") where name == "GET /users/42"'
          - 'replace_pattern(attributes["url.full"], "token=[^&]+", "token=***")'
          - 'delete_key(attributes, "debug.internal")'
    log_statements:
      - context: log
        statements:
          - 'set(attributes["level"], severity_text)'
  redaction:
    allow_all_keys: true
    blocked_values: ["${CARD_PATTERN}"]
    summary: info
`;

function config(dir) {
  const q = (s) => JSON.stringify(s);
  const owners = path.join(dir, 'owners.csv');
  fs.writeFileSync(owners, `service.name,team,sla.tier\n${SERVICE},payments,gold\n*,unowned,bronze\n`);
  return `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", include_metadata: true }
      http: { endpoint: "127.0.0.1:0", include_metadata: true }
${PROCESSORS_YAML.replace('"OWNERS"', q(owners))}
exporters:
  file/traces: { path: ${q(path.join(dir, 'traces.jsonl'))} }
  file/logs: { path: ${q(path.join(dir, 'logs.jsonl'))} }
extensions:
  health_check: { endpoint: "127.0.0.1:0" }
service:
  extensions: [health_check]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
  pipelines:
    traces:
      receivers: [otlp]
      processors: [resourcedetection, resource, lookup, attributes, filter, transform, redaction]
      exporters: [file/traces]
    logs:
      receivers: [otlp]
      processors: [resourcedetection, resource, lookup, attributes, filter, transform, redaction]
      exporters: [file/logs]
`;
}

const NODE_ARCH = { x64: 'amd64', arm64: 'arm64', ia32: '386', ppc64: 'ppc64', s390x: 's390x' };

/** The resource every item must carry after the processors, from what the SDK sent. */
function expectedResource(sdkResource) {
  const want = {};
  for (const [k, v] of Object.entries(sdkResource.attributes)) {
    if (k === 'telemetry.sdk.name') continue; // resource: delete
    want[k] = typeof v === 'number' ? I(v) : S(String(v));
  }
  Object.assign(want, {
    'deployment.environment': S('staging'), // resource: upsert
    'cloud.region': S('eu-west-1'), // resourcedetection: env (OTEL_RESOURCE_ATTRIBUTES)
    'k8s.cluster.name': S('prod cluster'), // percent-decoded
    'host.name': S(os.hostname()), // resourcedetection: system, hostname_sources [os]
    'os.type': S('linux'),
    'host.arch': S(NODE_ARCH[process.arch] ?? process.arch),
    team: S('payments'), // lookup
    'sla.tier': S('gold'),
  });
  return want;
}

test('every processor of issue #11 on traces and logs from the JS SDK; output asserted exactly', { timeout: 60000 }, async () => {
  const env = { OTEL_RESOURCE_ATTRIBUTES: 'cloud.region=eu-west-1,k8s.cluster.name=prod%20cluster' };
  await withOtlpd(async (otlpd) => {
    const headers = { 'x-tenant': 'acme' };
    const resource = defaultResource().merge(resourceFromAttributes({ 'service.name': SERVICE }));

    // --- traces --------------------------------------------------------------------------------
    const traces = recordingExporter(await createExporter('traces', 'http/protobuf', otlpd, { headers }));
    const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(traces.exporter)] });
    const tracer = tracerProvider.getTracer('otlpd-proc-tracer', '1.0.0');
    const root = tracer.startSpan('GET /users/42', {
      kind: SpanKind.SERVER,
      attributes: {
        'user.email': 'alice@example.com',
        password: 'hunter2',
        'url.full': 'https://shop.example.com/users/42?token=abc123&x=1',
        'debug.internal': true,
        'payment.card': CARD,
        'http.response.status_code': 200,
      },
    }, ROOT_CONTEXT);
    const child = tracer.startSpan('SELECT users', {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system': 'postgresql', note: `paid with ${CARD} today` },
    }, trace.setSpan(ROOT_CONTEXT, root));
    child.end();
    tracer.startSpan('GET /health', { kind: SpanKind.SERVER }, ROOT_CONTEXT).end();
    root.end();
    await tracerProvider.forceFlush();
    await tracerProvider.shutdown();
    assertAllExportsSucceeded(traces.calls, 'trace exporter');

    // --- logs ----------------------------------------------------------------------------------
    // Logs over gRPC: the tenant comes as gRPC metadata, set the way deployments set it (the
    // exporter reads OTEL_EXPORTER_OTLP_LOGS_HEADERS when it is created).
    process.env.OTEL_EXPORTER_OTLP_LOGS_HEADERS = 'x-tenant=acme';
    let logsExporter;
    try {
      logsExporter = await createExporter('logs', 'grpc', otlpd);
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_LOGS_HEADERS;
    }
    const logs = recordingExporter(logsExporter);
    const loggerProvider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: logs.exporter })] });
    const logger = loggerProvider.getLogger('otlpd-proc-logger', '1.0.0');
    logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: `charged card ${CARD}`, attributes: { password: 'x', 'user.email': 'bob@example.com' } });
    logger.emit({ severityNumber: SeverityNumber.DEBUG, severityText: 'DEBUG', body: 'cache warmed' });
    logger.emit({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'slow query' });
    await loggerProvider.forceFlush();
    await loggerProvider.shutdown();
    assertAllExportsSucceeded(logs.calls, 'log exporter');

    const wantResource = expectedResource(resource);

    // Two spans remain: the health check was filtered out.
    const spanLines = await otlpd.waitForJsonl('traces', (l) => spansOf(l).length, 2);
    const spans = spansOf(spanLines);
    assert.deepEqual(spans.map((s) => s.span.name).sort(), ['GET /users/42', 'SELECT users'], 'the filter dropped GET /health, nothing else');
    const byName = Object.fromEntries(spans.map((s) => [s.span.name, s]));
    for (const { resource: r, scope } of spans) {
      assert.deepEqual(resourceAttributes(r), wantResource, 'span resource: detected, upserted, deleted and looked up');
      assert.equal(scope.name, 'otlpd-proc-tracer');
    }
    assert.deepEqual(attributes(byName['GET /users/42'].span.attributes), {
      'user.email': S(sha256('alice@example.com')), // attributes: hash
      tenant: S('acme'), // attributes: insert from_context (HTTP header x-tenant)
      'url.full': S('https://shop.example.com/users/42?token=***&x=1'), // transform: replace_pattern
      'http.route': S('/users/{id}'), // transform: set ... where
      'payment.card': S('****'), // redaction: blocked value
      'http.response.status_code': I(200),
      'redaction.masked.count': I(1), // redaction summary: info
    }, 'root span attributes (password and debug.internal deleted)');
    assert.deepEqual(attributes(byName['SELECT users'].span.attributes), {
      'db.system': S('postgresql'),
      note: S('paid with **** today'),
      tenant: S('acme'),
      'redaction.masked.count': I(1),
    }, 'child span attributes (no route set: the where clause did not match)');

    // Two records remain: DEBUG was below the filter's threshold.
    const logLines = await otlpd.waitForJsonl('logs', (l) => logRecordsOf(l).length, 2);
    const records = logRecordsOf(logLines);
    assert.deepEqual(records.map((r) => r.record.severityText).sort(), ['INFO', 'WARN']);
    for (const { resource: r } of records) assert.deepEqual(resourceAttributes(r), wantResource, 'log resource');
    const info = records.find((r) => r.record.severityText === 'INFO').record;
    assert.deepEqual(anyValue(info.body), S('charged card ****'), 'redaction masks string bodies');
    assert.deepEqual(attributes(info.attributes), {
      'user.email': S(sha256('bob@example.com')),
      tenant: S('acme'),
      level: S('INFO'),
      'redaction.body.masked.count': I(1), // the body was masked, no attribute was
    }, 'INFO record attributes');
    const warn = records.find((r) => r.record.severityText === 'WARN').record;
    assert.deepEqual(anyValue(warn.body), S('slow query'));
    assert.deepEqual(attributes(warn.attributes), { tenant: S('acme'), level: S('WARN') }, 'WARN record attributes');

    // The dropped items are counted per processor.
    const metrics = await otlpd.scrapeMetrics();
    assert.match(metrics, /otlpd_processor_dropped_items_total\{processor="filter",signal="traces"\} 1\b/);
    assert.match(metrics, /otlpd_processor_dropped_items_total\{processor="filter",signal="logs"\} 1\b/);
    assert.match(metrics, /otlpd_lookup_hits_total\{processor="lookup"[^}]*\} [1-9]/);
  }, { config, env });
});

test('otlpd validate accepts a Collector config using these processors with the Collector keys', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otlpd-validate-'));
  try {
    const owners = path.join(dir, 'owners.yaml');
    fs.writeFileSync(owners, '- service.name: checkout\n  team: payments\n');
    const yaml = `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:4317", include_metadata: true }
${PROCESSORS_YAML.replace('"OWNERS"', JSON.stringify(owners))}
exporters:
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [resourcedetection, resource, lookup, attributes, filter, transform, redaction], exporters: [debug] }
    logs: { receivers: [otlp], processors: [resourcedetection, resource, attributes, filter, transform, redaction], exporters: [debug] }
`;
    const file = path.join(dir, 'collector.yaml');
    fs.writeFileSync(file, yaml);
    const ok = spawnSync(otlpdBinary(), ['validate', '--config', file], { encoding: 'utf8', timeout: 20000 });
    assert.equal(ok.status, 0, `validate failed:\n${ok.stdout}\n${ok.stderr}`);

    // A broken OTTL statement is reported with the YAML position of the statement.
    fs.writeFileSync(file, yaml.replace('delete_key(attributes, "debug.internal")', 'delete_key(attributes)'));
    const bad = spawnSync(otlpdBinary(), ['validate', '--config', file], { encoding: 'utf8', timeout: 20000 });
    assert.notEqual(bad.status, 0, 'a wrong argument count fails validation');
    assert.match(`${bad.stdout}${bad.stderr}`, /transform.*trace_statements.*\(line \d+:\d+\).*delete_key/s, 'the error names the statement and its position');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
