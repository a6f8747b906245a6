// The store exporter's compressed Arrow IPC files (zstd, the default, and lz4 frame) read by an
// independent reader: apache-arrow from npm with pure-JS decompressors from npm (fzstd, lz4js)
// registered as its codecs. Every row of a 600-span request is checked against what was sent,
// so the buffers are large enough to be stored compressed, not only as they are (-1).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import { CompressionType } from 'apache-arrow';

import {
  EOS, TRACE_ID, arrowFiles, describeMessages, hex, logsBody, metricsBody, postJson, readTable,
  registerCodecs, startStoreOtlpd, tempDir, waitRows,
} from './lib/store.mjs';

const attr = (key, value) => ({ key, value });
const NAMES = ['GET /api/v1/orders/{id}', 'SELECT orders.items', 'POST /api/v1/cart'];
// Above 2^53: a reader that went through a JS number would lose the last digit.
const BIG = 9007199254740993n;

function spanOf(i, base, name) {
  return {
    traceId: i % 10 === 0 ? TRACE_ID : `${(i + 1).toString(16).padStart(8, '0')}98038103d269b633813fc60c`,
    spanId: (0x1000 + i).toString(16).padStart(16, '0'),
    name,
    kind: i % 3 === 0 ? 2 : 3,
    startTimeUnixNano: String(base + BigInt(i) * 1000n),
    endTimeUnixNano: String(base + BigInt(i) * 1000n + 250000n + BigInt(i % 7)),
    attributes: [
      attr('http.response.status_code', { intValue: String(i % 50 === 0 ? 500 : 200) }),
      attr('app.seq', { intValue: String(BIG + BigInt(i)) }),
      attr('url.full', { stringValue: `https://shop.example.com/api/v1/orders/${i}` }),
      attr('app.ratio', { doubleValue: i / 4 }),
    ],
    status: i % 50 === 0 ? { code: 2, message: 'upstream returned 500' } : {},
  };
}

function tracesBody(base, count, names) {
  return {
    resourceSpans: [{
      resource: {
        attributes: [
          attr('service.name', { stringValue: 'checkout' }),
          attr('host.name', { stringValue: 'ip-10-1-2-3.eu-west-1.compute.internal' }),
        ],
      },
      scopeSpans: [{
        scope: { name: 'interop', version: '1.0' },
        spans: Array.from({ length: count }, (_, i) => spanOf(i, base, names[i % names.length])),
      }],
    }],
  };
}

function checkSpans(spans, count, base, names, offset = 0) {
  for (let i = 0; i < count; ++i) {
    const row = offset + i;
    const sent = spanOf(i, base, names[i % names.length]);
    assert.equal(hex(spans.getChild('trace_id').get(row)), sent.traceId, `trace_id of row ${row}`);
    assert.equal(hex(spans.getChild('span_id').get(row)), sent.spanId, `span_id of row ${row}`);
    assert.equal(spans.getChild('name').get(row), sent.name, `name of row ${row}`);
    assert.equal(spans.getChild('service_name').get(row), 'checkout');
    assert.equal(spans.getChild('kind').get(row), sent.kind);
    assert.equal(Number(spans.getChild('duration').get(row)), 250000 + (i % 7));
    assert.equal(spans.getChild('status_code').get(row), i % 50 === 0 ? 2 : 0);
    const attrs = spans.getChild('attributes').get(row).toArray();
    assert.equal(attrs.length, 4);
    const status = attrs.find((a) => a.key === 'http.response.status_code');
    assert.equal(typeof status.int, 'bigint', 'ints stay ints');
    assert.equal(status.int, i % 50 === 0 ? 500n : 200n);
    assert.equal(attrs.find((a) => a.key === 'app.seq').int, BIG + BigInt(i));
    // A value seen before in the file is in str_dict (layout 3), else in str.
    const url = attrs.find((a) => a.key === 'url.full');
    assert.equal(url.str_dict ?? url.str, `https://shop.example.com/api/v1/orders/${i}`);
    assert.equal(attrs.find((a) => a.key === 'app.ratio').double, i / 4);
  }
  const resource = spans.getChild('resource_attributes').get(offset + count - 1).toArray();
  assert.equal(resource.find((a) => a.key === 'host.name').str, 'ip-10-1-2-3.eu-west-1.compute.internal');
  assert.equal(spans.getChild('scope_name').get(offset), 'interop');
}

/** What MessageReader sees: every batch compressed with `type`, and some buffers really so. */
function checkCompressed(file, type) {
  const messages = describeMessages(file);
  assert.equal(messages[0].type, 'schema');
  const batches = messages.slice(1);
  assert.ok(batches.some((m) => m.type === 'dictionary'), 'dictionary batches');
  assert.ok(batches.some((m) => m.type === 'batch'), 'record batches');
  for (const m of batches) assert.equal(m.compression, type, `${m.type} compressed with ${CompressionType[type]}`);
  const compressed = batches.reduce((n, m) => n + m.compressed, 0);
  assert.ok(compressed > 0, `some buffers stored compressed: ${JSON.stringify(batches)}`);
  return batches;
}

// The codecs are registered once per process (the registry is global); this runs first.
test('without a registered codec apache-arrow refuses the default (zstd) files', { timeout: 45000 }, async () => {
  const dir = tempDir();
  const storeDir = `${dir}/data`;
  const otlpd = await startStoreOtlpd(dir, storeDir, { compression: 'default' });
  try {
    await postJson(otlpd, 'traces', tracesBody(1700000000000000000n, 100, NAMES));
    await waitRows(otlpd, 'traces', 100);
  } finally {
    const stopped = await otlpd.stop();
    assert.equal(stopped.code, 0, otlpd.describe());
  }
  const [file] = arrowFiles(storeDir, 'traces');
  checkCompressed(file, CompressionType.ZSTD);
  assert.throws(() => readTable(file), /compressed but codec not found/);
  fs.rmSync(dir, { recursive: true, force: true });
});

for (const { compression, type } of [
  { compression: 'default', type: CompressionType.ZSTD },
  { compression: 'lz4', type: CompressionType.LZ4_FRAME },
]) {
  const label = compression === 'default' ? 'zstd (the default)' : compression;
  test(`apache-arrow + ${label} codec reads the store files, open and sealed`, { timeout: 60000 }, async () => {
    registerCodecs();
    const dir = tempDir();
    const storeDir = `${dir}/data`;
    const otlpd = await startStoreOtlpd(dir, storeDir, { compression });
    const base = 1700000000000000000n;
    const later = base + 1000000000n;
    // A name the first request did not have: the second batch carries a delta dictionary.
    const laterNames = [...NAMES, 'PATCH /api/v1/cart'];
    try {
      await postJson(otlpd, 'traces', tracesBody(base, 600, NAMES));
      await postJson(otlpd, 'logs', logsBody(base));
      await postJson(otlpd, 'metrics', metricsBody(base));
      await waitRows(otlpd, 'traces', 600);
      await waitRows(otlpd, 'logs', 2);
      await waitRows(otlpd, 'metrics', 2);

      // Still being written: no end-of-stream marker yet, but readable.
      const [open] = arrowFiles(storeDir, 'traces');
      assert.notDeepEqual(fs.readFileSync(open).subarray(-8), EOS);
      checkCompressed(open, type);
      const spans = readTable(open);
      assert.equal(spans.numRows, 600);
      const fields = Object.fromEntries(spans.schema.fields.map((f) => [f.name, String(f.type)]));
      assert.equal(fields.trace_id, 'FixedSizeBinary[16]');
      assert.equal(fields.span_id, 'FixedSizeBinary[8]');
      assert.equal(fields.name, 'Dictionary<Int32, Utf8>');
      assert.equal(fields.service_name, 'Dictionary<Int32, Utf8>');
      assert.equal(fields.start_time, 'Timestamp<NANOSECOND, UTC>');
      for (const c of ['end_time', 'duration', 'parent_span_id', 'kind', 'status_code', 'attributes',
        'events', 'links', 'resource_attributes', 'scope_name']) {
        assert.ok(c in fields, `column ${c} in ${Object.keys(fields)}`);
      }
      assert.equal(spans.schema.metadata.get('otlpd:signal'), 'traces');
      checkSpans(spans, 600, base, NAMES);

      const logs = readTable(arrowFiles(storeDir, 'logs')[0]);
      assert.equal(logs.numRows, 2);
      assert.equal(logs.getChild('severity_number').get(1), 17);
      assert.equal(logs.getChild('severity_text').get(1), 'ERROR');
      assert.equal(logs.getChild('body').get(0).str, 'hello');
      assert.equal(hex(logs.getChild('trace_id').get(1)), TRACE_ID);

      const metrics = readTable(arrowFiles(storeDir, 'metrics')[0]);
      assert.equal(metrics.numRows, 2);
      assert.equal(metrics.getChild('name').get(1), 'latency');
      assert.equal(metrics.getChild('value_int').get(0), 42n);
      assert.deepEqual(Array.from(metrics.getChild('bucket_counts').get(1).toArray(), Number), [1, 2, 0]);
      assert.equal(metrics.getChild('sum').get(1), 7.5);

      await postJson(otlpd, 'traces', tracesBody(later, 400, laterNames));
      await waitRows(otlpd, 'traces', 1000);
    } finally {
      const stopped = await otlpd.stop();
      assert.equal(stopped.code, 0, otlpd.describe());
    }
    // Sealed on shutdown: end-of-stream marker, both batches, the delta dictionary applied.
    const files = arrowFiles(storeDir, 'traces');
    assert.equal(files.length, 1);
    assert.deepEqual(fs.readFileSync(files[0]).subarray(-8), EOS);
    const batches = checkCompressed(files[0], type);
    assert.equal(batches.filter((m) => m.type === 'batch').length, 2);
    const spans = readTable(files[0]);
    assert.equal(spans.numRows, 1000);
    checkSpans(spans, 600, base, NAMES);
    checkSpans(spans, 400, later, laterNames, 600);
    assert.equal(spans.getChild('name').get(603), 'PATCH /api/v1/cart');
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
