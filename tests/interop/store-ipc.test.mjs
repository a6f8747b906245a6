// The store exporter's Arrow IPC files read by an independent reader (apache-arrow from npm):
// schema, row counts and values, for a file still being written and for sealed files, in layout
// 3 (docs/STORAGE.md): attribute strings that repeat in str_dict, the others in str.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import {
  EOS, TRACE_ID, arrowFiles, hex, logsBody, metricsBody, postJson, readTable, startStoreOtlpd,
  tempDir, tracesBody, waitRows,
} from './lib/store.mjs';

test('apache-arrow reads the store files, open and sealed', { timeout: 45000 }, async () => {
  const dir = tempDir();
  const storeDir = `${dir}/data`;
  const otlpd = await startStoreOtlpd(dir, storeDir);
  try {
    const base = 1700000000000000000n;
    await postJson(otlpd, 'traces', tracesBody(base));
    await postJson(otlpd, 'logs', logsBody(base));
    await postJson(otlpd, 'metrics', metricsBody(base));
    await waitRows(otlpd, 'traces', 3);
    await waitRows(otlpd, 'logs', 2);
    await waitRows(otlpd, 'metrics', 2);

    // Still being written: no end-of-stream marker yet, but readable.
    const [open] = arrowFiles(storeDir, 'traces');
    assert.ok(open, 'a traces file exists');
    assert.notDeepEqual(fs.readFileSync(open).subarray(-8), EOS);
    const spans = readTable(open);
    assert.equal(spans.numRows, 3);
    const names = spans.schema.fields.map((f) => f.name);
    for (const c of ['start_time', 'end_time', 'duration', 'trace_id', 'span_id', 'parent_span_id',
      'name', 'kind', 'service_name', 'status_code', 'attributes', 'events', 'links',
      'resource_attributes', 'scope_name']) {
      assert.ok(names.includes(c), `column ${c} in ${names}`);
    }
    assert.equal(String(spans.schema.fields.find((f) => f.name === 'trace_id').type), 'FixedSizeBinary[16]');
    assert.equal(hex(spans.getChild('trace_id').get(0)), TRACE_ID);
    assert.equal(hex(spans.getChild('span_id').get(1)), 'eee19b7ec3c1b171');
    assert.equal(spans.getChild('parent_span_id').get(0), null);
    assert.equal(spans.getChild('name').get(0), 'GET /orders');
    assert.equal(spans.getChild('service_name').get(2), 'checkout');
    assert.equal(Number(spans.getChild('duration').get(0)), 250000);
    assert.equal(spans.getChild('status_code').get(2), 2);
    assert.equal(spans.getChild('status_message').get(2), 'boom');
    const attrs = spans.getChild('attributes').get(0).toArray();
    const status = attrs.find((a) => a.key === 'http.response.status_code');
    assert.equal(typeof status.int, 'bigint', 'ints stay ints');
    assert.equal(status.int, 200n);
    assert.equal(attrs.find((a) => a.key === 'app.ratio').double, 0.5);
    assert.equal(attrs.find((a) => a.key === 'app.cached').bool, true);
    assert.equal(spans.getChild('events').get(0).toArray()[0].name, 'exception');
    // Layout 2 (docs/STORAGE.md): attribute keys, and resource / scope string values, are
    // dictionary-encoded inside the attribute structs; apache-arrow resolves them.
    assert.equal(spans.schema.metadata.get('otlpd:version'), '3');
    const memberType = (table, column, member) =>
      String(table.schema.fields.find((f) => f.name === column).type.children[0].type.children
        .find((m) => m.name === member).type);
    const keyType = (table, column) => memberType(table, column, 'key');
    assert.match(keyType(spans, 'attributes'), /^Dictionary<Int32, Utf8>$/);
    assert.equal(attrs.find((a) => a.key === 'url.path').str, '/orders/0');
    // Layout 3: a string value that repeats is in str_dict (dictionary-encoded) from its second
    // sight in a file on; its first sight, and values seen once, are in str.
    assert.match(memberType(spans, 'attributes', 'str_dict'), /^Dictionary<Int32, Utf8>$/);
    assert.match(memberType(spans, 'attributes', 'str'), /^Utf8$/);
    const method = (table, row) =>
      table.getChild('attributes').get(row).toArray().find((a) => a.key === 'http.request.method');
    assert.equal(method(spans, 0).str, 'GET');
    assert.equal(method(spans, 0).str_dict, null);
    for (const row of [1, 2]) {
      assert.equal(method(spans, row).str, null);
      assert.equal(method(spans, row).str_dict, 'GET');
      assert.equal(method(spans, row).type, 1);
    }
    assert.equal(attrs.find((a) => a.key === 'url.path').str_dict, null);
    const serviceAttr = (table, row) =>
      table.getChild('resource_attributes').get(row).toArray().find((a) => a.key === 'service.name');
    for (const row of [0, 1, 2]) assert.equal(serviceAttr(spans, row).str, 'checkout');
    assert.equal(serviceAttr(spans, 0).type, 1);

    const logs = readTable(arrowFiles(storeDir, 'logs')[0]);
    assert.equal(logs.numRows, 2);
    assert.equal(logs.getChild('severity_number').get(1), 17);
    assert.equal(logs.getChild('severity_text').get(1), 'ERROR');
    assert.equal(logs.getChild('body').get(0).str, 'hello');
    assert.deepEqual(JSON.parse(logs.getChild('body').get(1).str),
      { kvlistValue: { values: [{ key: 'k', value: { intValue: '7' } }] } });
    assert.equal(hex(logs.getChild('trace_id').get(1)), TRACE_ID);
    assert.equal(logs.schema.metadata.get('otlpd:version'), '3');
    assert.match(memberType(logs, 'attributes', 'str_dict'), /^Dictionary<Int32, Utf8>$/);
    assert.match(keyType(logs, 'resource_attributes'), /^Dictionary<Int32, Utf8>$/);
    for (const row of [0, 1]) assert.equal(serviceAttr(logs, row).str, 'checkout');

    const metrics = readTable(arrowFiles(storeDir, 'metrics')[0]);
    assert.equal(metrics.numRows, 2);
    assert.equal(metrics.getChild('name').get(0), 'requests');
    assert.equal(metrics.getChild('value_int').get(0), 42n);
    assert.equal(metrics.getChild('is_monotonic').get(0), true);
    assert.deepEqual(Array.from(metrics.getChild('bucket_counts').get(1).toArray(), Number), [1, 2, 0]);
    assert.deepEqual(Array.from(metrics.getChild('explicit_bounds').get(1).toArray()), [1, 5]);
    assert.equal(metrics.getChild('sum').get(1), 7.5);
    assert.equal(metrics.schema.metadata.get('otlpd:version'), '3');
    assert.match(memberType(metrics, 'attributes', 'str_dict'), /^Dictionary<Int32, Utf8>$/);
    assert.match(keyType(metrics, 'attributes'), /^Dictionary<Int32, Utf8>$/);
    for (const row of [0, 1]) assert.equal(serviceAttr(metrics, row).str, 'checkout');

    // A second request in the same file: a later batch with a delta dictionary.
    await postJson(otlpd, 'traces', tracesBody(base + 1000000000n));
    await waitRows(otlpd, 'traces', 6);
  } finally {
    const stopped = await otlpd.stop();
    assert.equal(stopped.code, 0, otlpd.describe());
  }
  // Sealed on shutdown: end-of-stream marker, every row still there.
  const files = arrowFiles(storeDir, 'traces');
  assert.equal(files.length, 1);
  assert.deepEqual(fs.readFileSync(files[0]).subarray(-8), EOS);
  const spans = readTable(files[0]);
  assert.equal(spans.numRows, 6);
  assert.equal(spans.getChild('name').get(4), 'SELECT orders');
  // Rows of the second batch resolve through the delta dictionaries too.
  // '/orders/1' was in the first request too: its second sight in the file is in str_dict.
  assert.equal(spans.getChild('attributes').get(4).toArray().find((a) => a.key === 'url.path')
    .str_dict, '/orders/1');
  assert.equal(spans.getChild('resource_attributes').get(5).toArray()[0].str, 'checkout');
  for (const row of [3, 4, 5]) {
    assert.equal(spans.getChild('attributes').get(row).toArray()
      .find((a) => a.key === 'http.request.method').str_dict, 'GET', `row ${row}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
