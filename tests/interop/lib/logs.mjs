// Logs: the JS SDK's LoggerProvider + a log record processor + an official OTLP log exporter ->
// otlpd; then checks otlpd's accepted-records counter and the records its file exporter wrote.
import assert from 'node:assert/strict';

import { context, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

import { assertReceiverCounters } from './checks.mjs';
import { PROTOCOLS, assertAllExportsSucceeded, createExporter, recordingExporter } from './exporters.mjs';
import {
  A, B, BYTES, D, I, KV, S, anyValue, assertHexId, attributes, idUnset, int64, int64Opt, logRecordsOf, resourceAttributes,
} from './otlp-json.mjs';
import { withOtlpd } from './otlpd.mjs';

const T0_MS = Date.UTC(2024, 0, 2, 3, 4, 5, 678); // fixed timestamps: exact 64-bit nanos expected
const msToNanos = (ms) => BigInt(ms) * 1000000n;
const PAYLOAD = new Uint8Array([0, 1, 2, 254, 255]);

const RECORDS = {
  'user logged in': {
    emit: {
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: 'user logged in',
      timestamp: T0_MS,
      observedTimestamp: T0_MS + 1,
      attributes: {
        'user.id': 42,
        'login.method': 'password',
        'login.success': true,
        'login.latency_ms': 12.5,
        'user.roles': ['admin', 'dev'],
        'payload.bytes': PAYLOAD,
      },
    },
    severityNumber: 9,
    severityText: 'INFO',
    body: S('user logged in'),
    time: msToNanos(T0_MS),
    observed: msToNanos(T0_MS + 1),
    attributes: {
      'user.id': I(42),
      'login.method': S('password'),
      'login.success': B(true),
      'login.latency_ms': D(12.5),
      'user.roles': A(S('admin'), S('dev')),
      'payload.bytes': BYTES(PAYLOAD),
    },
  },
  'disk.low (map body)': {
    emit: {
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: {
        event: 'disk.low',
        free_bytes: 1024,
        ratio: 0.125,
        mount: { path: '/var', readonly: false },
        tags: ['a', 'b'],
      },
      timestamp: T0_MS + 10,
      attributes: { 'host.disk': 'sda1' },
    },
    severityNumber: 13,
    severityText: 'WARN',
    body: KV({
      event: S('disk.low'),
      free_bytes: I(1024),
      ratio: D(0.125),
      mount: KV({ path: S('/var'), readonly: B(false) }),
      tags: A(S('a'), S('b')),
    }),
    time: msToNanos(T0_MS + 10),
    attributes: { 'host.disk': S('sda1') },
  },
  'failed inside a span': {
    emit: {
      severityNumber: SeverityNumber.ERROR,
      severityText: 'ERROR',
      body: 'failed inside a span',
      timestamp: T0_MS + 20,
      attributes: { 'error.type': 'Timeout' },
    },
    inSpan: true,
    severityNumber: 17,
    severityText: 'ERROR',
    body: S('failed inside a span'),
    time: msToNanos(T0_MS + 20),
    attributes: { 'error.type': S('Timeout') },
  },
};

export async function logsInterop(protocol) {
  const { transport } = PROTOCOLS[protocol];
  const serviceName = `otlpd-interop-logs-${protocol.replace('/', '-')}`;
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  try {
    await withOtlpd(async (otlpd) => {
      const { exporter, calls } = recordingExporter(await createExporter('logs', protocol, otlpd));
      const processor = protocol === 'http/protobuf'
        ? new SimpleLogRecordProcessor({ exporter })
        : new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 60000 });
      const resource = resourceFromAttributes({ 'service.name': serviceName });
      const provider = new LoggerProvider({ resource, processors: [processor] });
      const logger = provider.getLogger('otlpd-interop-logger', '0.9.3');
      // Spans only to give the third record an active span context; they are not exported.
      const tracer = new BasicTracerProvider({ resource }).getTracer('otlpd-interop-logs-tracer');

      let spanContext;
      for (const r of Object.values(RECORDS)) {
        if (r.inSpan) {
          tracer.startActiveSpan('interop-log-parent', (span) => {
            spanContext = span.spanContext();
            assert.equal(trace.getActiveSpan(), span, 'the span is active while the record is emitted');
            logger.emit(r.emit);
            span.end();
          });
        } else {
          logger.emit(r.emit);
        }
      }
      await provider.forceFlush();
      await provider.shutdown();

      const names = Object.keys(RECORDS);
      assertAllExportsSucceeded(calls, `${protocol} log exporter`);
      assert.equal(calls.reduce((n, c) => n + c.items.length, 0), names.length, 'the SDK exported every record once');

      await assertReceiverCounters(otlpd, 'log_records', transport, names.length);
      const lines = await otlpd.waitForJsonl('logs', (l) => logRecordsOf(l).length, names.length);
      const got = logRecordsOf(lines);
      assert.equal(got.length, names.length, `the file holds exactly the records sent: ${JSON.stringify(lines)}`);

      const byTime = new Map(got.map((g) => [int64Opt(g.record.timeUnixNano, 'timeUnixNano'), g]));
      for (const name of names) {
        const want = RECORDS[name];
        const g = byTime.get(want.time);
        assert.ok(g, `record "${name}" with timeUnixNano ${want.time} in the file: ${JSON.stringify(lines)}`);
        const { record, resource, scope } = g;
        assert.equal(record.severityNumber, want.severityNumber, `${name}: severityNumber (an integer enum)`);
        assert.equal(record.severityText, want.severityText, `${name}: severityText`);
        assert.deepEqual(anyValue(record.body ?? {}, `${name}.body`), want.body, `${name}: body`);
        assert.deepEqual(attributes(record.attributes, `${name}.attributes`), want.attributes, `${name}: attributes`);
        if (want.observed !== undefined) {
          assert.equal(int64(record.observedTimeUnixNano, `${name}.observedTimeUnixNano`), want.observed, `${name}: observedTimeUnixNano`);
        }
        if (want.inSpan) {
          assertHexId(record.traceId, 16, `${name}.traceId`);
          assertHexId(record.spanId, 8, `${name}.spanId`);
          assert.equal(record.traceId, spanContext.traceId, `${name}: traceId of the active span`);
          assert.equal(record.spanId, spanContext.spanId, `${name}: spanId of the active span`);
          assert.equal(record.flags, 1, `${name}: flags carry the sampled trace flag`);
        } else {
          assert.ok(idUnset(record.traceId), `${name}: no traceId outside a span, got ${JSON.stringify(record.traceId)}`);
          assert.ok(idUnset(record.spanId), `${name}: no spanId outside a span, got ${JSON.stringify(record.spanId)}`);
        }
        assert.deepEqual(resourceAttributes(resource)['service.name'], S(serviceName), `${name}: resource service.name`);
        assert.equal(scope?.name, 'otlpd-interop-logger', `${name}: scope name`);
        assert.equal(scope?.version, '0.9.3', `${name}: scope version`);
      }

      await assertReceiverCounters(otlpd, 'log_records', transport, names.length);
    });
  } finally {
    context.disable();
    contextManager.disable();
  }
}
