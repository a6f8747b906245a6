// Traces: the JS SDK's tracer provider + an official OTLP trace exporter -> otlpd; then checks
// otlpd's accepted-spans counter and the spans its file exporter wrote.
import assert from 'node:assert/strict';

import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { assertDebugOutputMentions, assertReceiverCounters } from './checks.mjs';
import { PROTOCOLS, assertAllExportsSucceeded, createExporter, recordingExporter } from './exporters.mjs';
import {
  A, B, D, I, S, assertHexId, attributes, hrNanos, idUnset, int64, resourceAttributes, spansOf,
} from './otlp-json.mjs';
import { withOtlpd } from './otlpd.mjs';

// OTLP Span.SpanKind and Status.StatusCode numbers.
const KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const STATUS = { UNSET: 0, OK: 1, ERROR: 2 };

// Fixed times, beyond 2^53 ns, so 64-bit handling is exact or visibly wrong.
const BASE_S = 1700000000;
const at = (ms, ns = 0) => [BASE_S + Math.floor(ms / 1000), (ms % 1000) * 1e6 + ns];

const ROOT_ATTRIBUTES = {
  'attr.string': 'hello otlpd',
  'attr.string.unicode': 'héllo ✓ 日本',
  'attr.bool.true': true,
  'attr.bool.false': false,
  'attr.int': 42,
  'attr.int.negative': -7,
  'attr.int.max_safe': Number.MAX_SAFE_INTEGER,
  'attr.double': 3.25,
  'attr.double.negative': -0.5,
  'attr.string_array': ['a', 'b', 'c'],
  'attr.int_array': [1, 2, 3],
  'attr.double_array': [1.5, 2.25],
  'attr.bool_array': [true, false, true],
};
const ROOT_ATTRIBUTES_EXPECTED = {
  'attr.string': S('hello otlpd'),
  'attr.string.unicode': S('héllo ✓ 日本'),
  'attr.bool.true': B(true),
  'attr.bool.false': B(false),
  'attr.int': I(42),
  'attr.int.negative': I(-7),
  'attr.int.max_safe': I('9007199254740991'),
  'attr.double': D(3.25),
  'attr.double.negative': D(-0.5),
  'attr.string_array': A(S('a'), S('b'), S('c')),
  'attr.int_array': A(I(1), I(2), I(3)),
  'attr.double_array': A(D(1.5), D(2.25)),
  'attr.bool_array': A(B(true), B(false), B(true)),
};

/** Creates the test trace; returns what was sent, keyed by span name. */
function produceSpans(tracer) {
  const sent = {};
  const record = (name, span, extra) => {
    sent[name] = { ...extra, ctx: span.spanContext() };
  };

  // A separate trace the root span links to.
  const linked = tracer.startSpan('interop-linked-consumer', { kind: SpanKind.CONSUMER, startTime: at(0) }, ROOT_CONTEXT);
  linked.end(at(5));
  record('interop-linked-consumer', linked, { kind: KIND.CONSUMER, start: at(0), end: at(5) });

  const root = tracer.startSpan('interop-root-server', {
    kind: SpanKind.SERVER,
    startTime: at(10, 1),
    attributes: ROOT_ATTRIBUTES,
    links: [{ context: linked.spanContext(), attributes: { 'link.reason': 'follows-from', 'link.index': 1 } }],
  }, ROOT_CONTEXT);
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);

  const child = tracer.startSpan('interop-child-client', { kind: SpanKind.CLIENT, startTime: at(20) }, rootCtx);
  child.setAttribute('db.system.name', 'postgresql');
  child.addEvent('cache.miss', { 'cache.key': 'user:42', 'cache.attempt': 2, 'cache.hit_ratio': 0.75, 'cache.cold': true }, at(21));
  child.addEvent('retry', at(22)); // an event without attributes
  const childCtx = trace.setSpan(rootCtx, child);

  const grandchild = tracer.startSpan('interop-grandchild-internal', { kind: SpanKind.INTERNAL, startTime: at(23) }, childCtx);
  grandchild.end(at(30));
  record('interop-grandchild-internal', grandchild, { kind: KIND.INTERNAL, start: at(23), end: at(30), parent: 'interop-child-client' });

  child.setStatus({ code: SpanStatusCode.ERROR, message: 'db timeout after 3 retries' });
  child.end(at(40));
  record('interop-child-client', child, { kind: KIND.CLIENT, start: at(20), end: at(40), parent: 'interop-root-server' });

  const child2 = tracer.startSpan('interop-child2-producer', { kind: SpanKind.PRODUCER, startTime: at(41) }, rootCtx);
  child2.setStatus({ code: SpanStatusCode.OK });
  child2.end(at(45));
  record('interop-child2-producer', child2, { kind: KIND.PRODUCER, start: at(41), end: at(45), parent: 'interop-root-server' });

  root.end(at(50, 999));
  record('interop-root-server', root, { kind: KIND.SERVER, start: at(10, 1), end: at(50, 999) });
  return sent;
}

// `exporterOptions` go to the SDK exporter's constructor (e.g. { compression: 'gzip' }).
export async function tracesInterop(protocol, exporterOptions = {}) {
  const { transport } = PROTOCOLS[protocol];
  const serviceName = `otlpd-interop-traces-${protocol.replace('/', '-')}`;
  await withOtlpd(async (otlpd) => {
    const { exporter, calls } = recordingExporter(
      await createExporter('traces', protocol, otlpd, exporterOptions));
    // Both processors are exercised: one request per span (simple) vs one batched request.
    const processor = protocol === 'http/protobuf'
      ? new SimpleSpanProcessor(exporter)
      : new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60000, maxExportBatchSize: 512 });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': serviceName, 'service.version': '1.2.3' }),
      spanProcessors: [processor],
    });
    const tracer = provider.getTracer('otlpd-interop-tracer', '0.9.1');
    const sent = produceSpans(tracer);
    const names = Object.keys(sent).sort();
    await provider.forceFlush();
    await provider.shutdown();

    assertAllExportsSucceeded(calls, `${protocol} trace exporter`);
    const exportedSpans = calls.reduce((n, c) => n + c.items.length, 0);
    assert.equal(exportedSpans, names.length, 'the SDK exported every span once');

    await assertReceiverCounters(otlpd, 'spans', transport, names.length);

    const lines = await otlpd.waitForJsonl('traces', (l) => spansOf(l).length, names.length);
    const got = spansOf(lines);
    assert.deepEqual(got.map((s) => s.span.name).sort(), names, 'the file holds exactly the spans sent');
    const byName = Object.fromEntries(got.map((s) => [s.span.name, s]));

    for (const name of names) {
      const { span, resource, scope } = byName[name];
      const want = sent[name];
      assertHexId(span.traceId, 16, `${name}.traceId`);
      assertHexId(span.spanId, 8, `${name}.spanId`);
      assert.equal(span.traceId, want.ctx.traceId, `${name}.traceId`);
      assert.equal(span.spanId, want.ctx.spanId, `${name}.spanId`);
      if (want.parent) {
        assert.equal(span.parentSpanId, byName[want.parent].span.spanId, `${name}.parentSpanId is ${want.parent}'s spanId`);
        assert.equal(span.traceId, byName[want.parent].span.traceId, `${name} is in ${want.parent}'s trace`);
      } else {
        assert.ok(idUnset(span.parentSpanId), `${name} is a root span, parentSpanId=${JSON.stringify(span.parentSpanId)}`);
      }
      assert.equal(span.kind, want.kind, `${name}.kind (an integer enum)`);
      assert.equal(int64(span.startTimeUnixNano, `${name}.startTimeUnixNano`), hrNanos(want.start), `${name}.startTimeUnixNano`);
      assert.equal(int64(span.endTimeUnixNano, `${name}.endTimeUnixNano`), hrNanos(want.end), `${name}.endTimeUnixNano`);
      assert.deepEqual(resourceAttributes(resource)['service.name'], S(serviceName), `${name}: resource service.name`);
      assert.deepEqual(resourceAttributes(resource)['service.version'], S('1.2.3'), `${name}: resource service.version`);
      assert.equal(scope?.name, 'otlpd-interop-tracer', `${name}: scope name`);
      assert.equal(scope?.version, '0.9.1', `${name}: scope version`);
    }

    // Same trace for the tree, a different one for the linked span.
    const root = byName['interop-root-server'].span;
    const linked = byName['interop-linked-consumer'].span;
    for (const n of ['interop-child-client', 'interop-grandchild-internal', 'interop-child2-producer']) {
      assert.equal(byName[n].span.traceId, root.traceId, `${n} shares the root's traceId`);
    }
    assert.notEqual(linked.traceId, root.traceId, 'the linked span is in another trace');

    assert.deepEqual(attributes(root.attributes, 'root.attributes'), ROOT_ATTRIBUTES_EXPECTED, 'root span attributes with their types');

    // Link.
    assert.equal(root.links?.length, 1, `root has one link: ${JSON.stringify(root.links)}`);
    const [link] = root.links;
    assert.equal(link.traceId, linked.traceId, 'link.traceId');
    assert.equal(link.spanId, linked.spanId, 'link.spanId');
    assert.equal(link.traceId, sent['interop-linked-consumer'].ctx.traceId, 'link.traceId is the SDK span context');
    assert.deepEqual(attributes(link.attributes, 'link.attributes'),
      { 'link.reason': S('follows-from'), 'link.index': I(1) }, 'link attributes');

    // Events.
    const child = byName['interop-child-client'].span;
    assert.deepEqual(attributes(child.attributes, 'child.attributes'), { 'db.system.name': S('postgresql') });
    assert.equal(child.events?.length, 2, `child has two events: ${JSON.stringify(child.events)}`);
    const [miss, retry] = child.events;
    assert.equal(miss.name, 'cache.miss');
    assert.equal(int64(miss.timeUnixNano, 'event.timeUnixNano'), hrNanos(at(21)), 'cache.miss time');
    assert.deepEqual(attributes(miss.attributes, 'event.attributes'), {
      'cache.key': S('user:42'), 'cache.attempt': I(2), 'cache.hit_ratio': D(0.75), 'cache.cold': B(true),
    }, 'cache.miss event attributes');
    assert.equal(retry.name, 'retry');
    assert.equal(int64(retry.timeUnixNano, 'event.timeUnixNano'), hrNanos(at(22)), 'retry time');
    assert.deepEqual(attributes(retry.attributes, 'retry.attributes'), {}, 'retry has no attributes');
    for (const n of ['interop-root-server', 'interop-grandchild-internal', 'interop-child2-producer', 'interop-linked-consumer']) {
      assert.equal(byName[n].span.events?.length ?? 0, 0, `${n} has no events`);
    }

    // Status.
    assert.equal(child.status?.code, STATUS.ERROR, `child status code: ${JSON.stringify(child.status)}`);
    assert.equal(child.status?.message, 'db timeout after 3 retries', 'child status message');
    assert.equal(byName['interop-child2-producer'].span.status?.code, STATUS.OK, 'child2 status OK');
    assert.equal(byName['interop-grandchild-internal'].span.status?.code ?? STATUS.UNSET, STATUS.UNSET, 'grandchild status unset');

    // The file holds nothing beyond these spans, and the counter did not move on.
    await assertReceiverCounters(otlpd, 'spans', transport, names.length);
    await assertDebugOutputMentions(otlpd, names);
  });
}
