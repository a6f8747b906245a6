// The web UI's pure modules under node (no browser): the trace model (tree, display order,
// collapsing, critical path) from OTLP/JSON and Jaeger JSON, semantic-convention ordering and
// summaries, the tag filter syntax, and counter rates.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { selfTime, traceFromJaeger, traceFromOtlp } from '../../ui/model.js';
import { orderAttributes, severityClass, spanSummary } from '../../ui/semconv.js';
import { formatTags, parseTags } from '../../ui/api.js';
import { ratePoints } from '../../ui/metrics.js';

const BASE_NS = 1700000000000000000n;
const ns = (us) => (BASE_NS + BigInt(us) * 1000n).toString();
const TRACE = '0af7651916cd43dd8448eb211c80319c';

function span(id, parent, name, startUs, endUs, extra = {}) {
  return { traceId: TRACE, spanId: id, parentSpanId: parent, name, kind: 2, startTimeUnixNano: ns(startUs), endTimeUnixNano: ns(endUs), ...extra };
}

function otlp(spansByService) {
  return {
    resourceSpans: Object.entries(spansByService).map(([service, spans]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: 'lib', version: '1' }, spans }],
    })),
  };
}

const rel = (trace, [a, b]) => [Math.round(a - trace.start), Math.round(b - trace.start)];

test('the tree: display order, depths, orphans as roots, collapsing', () => {
  const t = traceFromOtlp(otlp({
    api: [
      span('00000000000000d0', '00000000000000a0', 'D', 60, 90),
      span('00000000000000a0', '', 'A', 0, 100, { status: { code: 2, message: 'boom' } }),
      span('00000000000000c0', '00000000000000b0', 'C', 20, 45),
    ],
    db: [
      span('00000000000000b0', '00000000000000a0', 'B', 10, 50),
      span('00000000000000e0', 'ffffffffffffffff', 'E (parent missing)', 5, 10),
    ],
  }), TRACE);
  const names = [...t.order].map((i) => t.spans[i].name);
  assert.deepEqual(names, ['A', 'B', 'C', 'D', 'E (parent missing)']);
  assert.deepEqual([...t.order].map((i) => t.spans[i].depth), [0, 1, 2, 1, 0]);
  assert.equal(t.roots.length, 2);
  assert.equal(t.duration, 100);
  assert.equal(t.maxDepth, 2);
  assert.equal(t.errorCount, 1);
  assert.deepEqual(t.services.map((s) => [s.name, s.spanCount, s.errorCount]), [['api', 3, 1], ['db', 2, 0]]);
  const a = t.byId.get('00000000000000a0');
  const b = t.byId.get('00000000000000b0');
  assert.equal(t.subtreeSize[a], 4);
  assert.equal(t.subtreeSize[b], 2);

  const collapsed = new Uint8Array(t.spans.length);
  collapsed[b] = 1;
  assert.deepEqual([...t.visibleRows(collapsed)].map((i) => t.spans[i].name), ['A', 'B', 'D', 'E (parent missing)']);
  collapsed[a] = 1;
  assert.deepEqual([...t.visibleRows(collapsed)].map((i) => t.spans[i].name), ['A', 'E (parent missing)']);
});

test('the critical path walks the last-finishing children back from the root\'s end', () => {
  const t = traceFromOtlp(otlp({
    svc: [
      span('00000000000000a0', '', 'A', 0, 100),
      span('00000000000000b0', '00000000000000a0', 'B', 10, 50),
      span('00000000000000c0', '00000000000000b0', 'C', 20, 45),
      span('00000000000000d0', '00000000000000a0', 'D', 60, 90),
      span('00000000000000f0', '00000000000000a0', 'F overlaps D', 55, 85),
    ],
  }), TRACE);
  const seg = (id) => (t.critical.get(t.byId.get(id)) ?? []).map((s) => rel(t, s));
  // Jaeger's rule: after D, the next child must end before D started; F (ends 85) overlaps D
  // and is not on the path, so A's own time covers 50–60.
  assert.deepEqual(seg('00000000000000a0'), [[0, 10], [50, 60], [90, 100]]);
  assert.deepEqual(seg('00000000000000d0'), [[60, 90]]);
  assert.deepEqual(seg('00000000000000f0'), [], 'F overlaps D');
  assert.deepEqual(seg('00000000000000b0'), [[10, 20], [45, 50]]);
  assert.deepEqual(seg('00000000000000c0'), [[20, 45]]);
  const self = (id) => Math.round(selfTime(t, t.spans[t.byId.get(id)]));
  assert.equal(self('00000000000000a0'), 100 - 40 - 35, 'A less B (10–50) and D ∪ F (55–90)');
  assert.equal(self('00000000000000b0'), 40 - 25);
  assert.equal(self('00000000000000c0'), 25);
  const total = [...t.critical.values()].flat().reduce((sum, [x, y]) => sum + (y - x), 0);
  assert.equal(Math.round(total), 100, 'the path covers the root exactly once');
});

test('children overflowing their parent are clamped; cycles and duplicates do not hang', () => {
  const t = traceFromOtlp(otlp({
    svc: [
      span('00000000000000a0', '', 'A', 0, 50),
      span('00000000000000b0', '00000000000000a0', 'B async', 40, 80),
      span('0000000000000001', '0000000000000002', 'X', 0, 1),
      span('0000000000000002', '0000000000000001', 'Y', 0, 1),
    ],
  }), TRACE);
  assert.equal(t.spans.length, 4);
  assert.equal(t.order.length, 4);
  assert.deepEqual(new Set([...t.order]).size, 4, 'every span placed once');
  const b = t.byId.get('00000000000000b0');
  assert.deepEqual(t.critical.get(b).map((s) => rel(t, s)), [[40, 50]], 'B counts only inside A');
});

test('a 50,000-span chain builds without recursion', () => {
  const spans = [];
  for (let i = 0; i < 50000; i++) {
    spans.push(span((i + 1).toString(16).padStart(16, '0'), i ? i.toString(16).padStart(16, '0') : '', `s${i}`, i, 100000 - i));
  }
  const started = Date.now();
  const t = traceFromOtlp(otlp({ svc: spans }), TRACE);
  assert.equal(t.maxDepth, 49999);
  assert.equal(t.spans[t.order[49999]].name, 's49999');
  assert.equal(t.critical.size, 50000);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

test('Jaeger JSON: processes, references, kinds, errors, logs as events', () => {
  const t = traceFromJaeger({
    traceID: TRACE,
    processes: { p1: { serviceName: 'front', tags: [{ key: 'host.name', type: 'string', value: 'h1' }] } },
    spans: [
      { traceID: TRACE, spanID: 'a', operationName: 'GET /', references: [], startTime: 1000, duration: 100, processID: 'p1',
        tags: [{ key: 'span.kind', value: 'server' }, { key: 'http.method', value: 'GET' }] },
      { traceID: TRACE, spanID: 'b', operationName: 'child', references: [{ refType: 'CHILD_OF', traceID: TRACE, spanID: 'a' }, { refType: 'FOLLOWS_FROM', traceID: 'other', spanID: 'z' }],
        startTime: 1010, duration: 20, processID: 'p1', tags: [{ key: 'error', value: true }, { key: 'otel.status_description', value: 'bad' }],
        logs: [{ timestamp: 1015, fields: [{ key: 'event', value: 'retry' }, { key: 'n', value: 2 }] }] },
    ],
  }, TRACE);
  const b = t.spans[t.byId.get('b')];
  assert.equal(b.parent, t.byId.get('a'));
  assert.equal(b.error, true);
  assert.equal(b.status.message, 'bad');
  assert.deepEqual(b.links, [{ traceID: 'other', spanID: 'z', attributes: [] }]);
  assert.deepEqual(b.events, [{ time: 1015, name: 'retry', attributes: [['n', 2]] }]);
  assert.equal(t.spans[t.byId.get('a')].kind, 2);
  assert.deepEqual(t.spans[0].resource, [['service.name', 'front'], ['host.name', 'h1']]);
});

test('semantic conventions: http/db/rpc attributes first, one-line summaries', () => {
  const ordered = orderAttributes([['zeta', 1], ['db.system.name', 'pg'], ['app.id', 2], ['http.route', '/x'], ['rpc.method', 'M']]);
  assert.deepEqual(ordered.map(([k]) => k), ['http.route', 'db.system.name', 'rpc.method', 'app.id', 'zeta']);
  assert.equal(spanSummary({ attributes: [['http.request.method', 'GET'], ['http.route', '/users/{id}'], ['http.response.status_code', '404']] }), 'GET /users/{id} → 404');
  assert.equal(spanSummary({ attributes: [['db.system', 'redis'], ['db.operation', 'GET']] }), 'redis GET');
  assert.equal(spanSummary({ attributes: [['rpc.system', 'grpc'], ['rpc.service', 'Greeter'], ['rpc.method', 'Hi'], ['rpc.grpc.status_code', '0']] }), 'grpc Greeter/Hi → 0');
  assert.equal(spanSummary({ attributes: [['custom', 'x']] }), '');
  assert.deepEqual([0, 1, 5, 9, 13, 17, 21].map(severityClass), ['unset', 'trace', 'debug', 'info', 'warn', 'error', 'fatal']);
});

test('tag filters: key=value pairs, quoted values, errors', () => {
  assert.deepEqual(parseTags('a=1 b="x y" c= d="q\\"uote"'), { a: '1', b: 'x y', c: '', d: 'q"uote' });
  assert.deepEqual(parseTags('  '), {});
  assert.throws(() => parseTags('=x'), /cannot read the attribute filter/);
  assert.throws(() => parseTags('novalue'), /cannot read the attribute filter/);
  assert.equal(formatTags({ a: '1', b: 'x y', c: '' }), 'a=1 b="x y" c=""');
  assert.deepEqual(parseTags(formatTags({ k: 'v w', 'http.route': '/a' })), { k: 'v w', 'http.route': '/a' });
});

test('counter rates from cumulative points skip resets', () => {
  assert.deepEqual(ratePoints([[3e6, 30], [1e6, 10], [2e6, 20], [4e6, 5]]), [[2e6, 10], [3e6, 10]]);
  assert.deepEqual(ratePoints([[1e6, 1]]), []);
});
