// Reading OTLP/JSON as otlpd's file exporter writes it (the protobuf JSON mapping of the OTLP
// export requests), strictly enough that a wrong type or encoding fails a test:
// ids are lowercase hex, 64-bit integers decimal strings (JSON numbers accepted too, read
// without losing precision), enums integers, bytes base64.
import assert from 'node:assert/strict';

/**
 * JSON.parse that keeps integers beyond Number.MAX_SAFE_INTEGER exact by turning them into
 * decimal strings before parsing (a 64-bit nanosecond timestamp written as a JSON number would
 * otherwise be rounded).
 */
export function parseJsonLossless(text) {
  let out = '';
  let last = 0;
  let i = 0;
  const n = text.length;
  const isDigit = (c) => c >= '0' && c <= '9';
  while (i < n) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '-' || isDigit(c)) {
      let j = i + (c === '-' ? 1 : 0);
      while (j < n && isDigit(text[j])) j++;
      const integral = !(j < n && (text[j] === '.' || text[j] === 'e' || text[j] === 'E'));
      if (integral && !Number.isSafeInteger(Number(text.slice(i, j)))) {
        out += `${text.slice(last, i)}"${text.slice(i, j)}"`;
        last = j;
      }
      while (j < n && /[0-9.eE+-]/.test(text[j])) j++;
      i = j;
      continue;
    }
    i++;
  }
  return JSON.parse(out + text.slice(last));
}

/** A 64-bit integer field: a decimal string (or an integral JSON number). */
export function int64(v, what = 'integer') {
  if (typeof v === 'string') {
    assert.match(v, /^-?[0-9]+$/, `${what} must be a decimal integer string, got ${JSON.stringify(v)}`);
    return BigInt(v);
  }
  assert.ok(typeof v === 'number' && Number.isInteger(v), `${what} must be an integer, got ${JSON.stringify(v)}`);
  return BigInt(v);
}

/** An optional 64-bit field (absent means 0 in the protobuf JSON mapping). */
export function int64Opt(v, what) {
  return v === undefined ? 0n : int64(v, what);
}

export function double(v, what = 'double') {
  if (typeof v === 'number') return v;
  assert.ok(typeof v === 'string' && /^(NaN|-?Infinity|-?[0-9.eE+-]+)$/.test(v),
    `${what} must be a JSON number, got ${JSON.stringify(v)}`);
  return Number(v);
}

export function assertHexId(v, bytes, what) {
  assert.equal(typeof v, 'string', `${what} must be a hex string, got ${JSON.stringify(v)}`);
  assert.match(v, new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${what} must be ${bytes} bytes of lowercase hex`);
}

/** True when an optional id field is unset (absent or empty). */
export function idUnset(v) {
  return v === undefined || v === '';
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Canonical, type-tagged form of an OTLP AnyValue, so deepStrictEqual can compare type and value:
 * {string}, {bool}, {int: BigInt}, {double}, {array: [...]}, {kvlist: {key: ...}}, {bytes: hex}, {empty: true}.
 */
export function anyValue(v, what = 'AnyValue') {
  assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${what} must be an object, got ${JSON.stringify(v)}`);
  const keys = Object.keys(v);
  if (keys.length === 0) return { empty: true };
  assert.equal(keys.length, 1, `${what} must set exactly one value field: ${JSON.stringify(v)}`);
  const [k] = keys;
  const x = v[k];
  switch (k) {
    case 'stringValue':
      assert.equal(typeof x, 'string', `${what}.stringValue must be a string`);
      return { string: x };
    case 'boolValue':
      assert.equal(typeof x, 'boolean', `${what}.boolValue must be a JSON boolean, got ${JSON.stringify(x)}`);
      return { bool: x };
    case 'intValue':
      return { int: int64(x, `${what}.intValue`) };
    case 'doubleValue':
      return { double: double(x, `${what}.doubleValue`) };
    case 'arrayValue':
      return { array: (x.values ?? []).map((e, i) => anyValue(e, `${what}.arrayValue[${i}]`)) };
    case 'kvlistValue':
      return { kvlist: attributes(x.values ?? [], `${what}.kvlistValue`) };
    case 'bytesValue':
      assert.ok(typeof x === 'string' && BASE64.test(x), `${what}.bytesValue must be base64, got ${JSON.stringify(x)}`);
      return { bytes: Buffer.from(x, 'base64').toString('hex') };
    default:
      assert.fail(`${what} has unknown field ${k}: ${JSON.stringify(v)}`);
  }
}

/** OTLP KeyValue list -> {key: canonical AnyValue}; duplicate keys fail. */
export function attributes(list, what = 'attributes') {
  const out = {};
  for (const kv of list ?? []) {
    assert.equal(typeof kv.key, 'string', `${what}: key must be a string: ${JSON.stringify(kv)}`);
    assert.ok(!(kv.key in out), `${what}: duplicate key ${kv.key}`);
    out[kv.key] = anyValue(kv.value ?? {}, `${what}[${kv.key}]`);
  }
  return out;
}

// Builders for expected canonical values.
export const S = (string) => ({ string });
export const B = (bool) => ({ bool });
export const I = (n) => ({ int: BigInt(n) });
export const D = (d) => ({ double: d });
export const A = (...values) => ({ array: values });
export const KV = (kvlist) => ({ kvlist });
export const BYTES = (u8) => ({ bytes: Buffer.from(u8).toString('hex') });

/** HrTime [seconds, nanos] -> BigInt nanoseconds since the epoch. */
export function hrNanos([s, ns]) {
  return BigInt(s) * 1000000000n + BigInt(ns);
}

function arr(v, what) {
  if (v === undefined) return [];
  assert.ok(Array.isArray(v), `${what} must be an array, got ${JSON.stringify(v)}`);
  return v;
}

/** Every span in the lines: [{resource, scope, span, line}]. */
export function spansOf(lines) {
  const out = [];
  lines.forEach((req, line) => {
    for (const rs of arr(req.resourceSpans, 'resourceSpans')) {
      for (const ss of arr(rs.scopeSpans, 'scopeSpans')) {
        for (const span of arr(ss.spans, 'spans')) out.push({ resource: rs.resource, scope: ss.scope, span, line });
      }
    }
  });
  return out;
}

/** Every log record in the lines: [{resource, scope, record, line}]. */
export function logRecordsOf(lines) {
  const out = [];
  lines.forEach((req, line) => {
    for (const rl of arr(req.resourceLogs, 'resourceLogs')) {
      for (const sl of arr(rl.scopeLogs, 'scopeLogs')) {
        for (const record of arr(sl.logRecords, 'logRecords')) out.push({ resource: rl.resource, scope: sl.scope, record, line });
      }
    }
  });
  return out;
}

/** Every metric in the lines: [{resource, scope, metric, line}]. */
export function metricsOf(lines) {
  const out = [];
  lines.forEach((req, line) => {
    for (const rm of arr(req.resourceMetrics, 'resourceMetrics')) {
      for (const sm of arr(rm.scopeMetrics, 'scopeMetrics')) {
        for (const metric of arr(sm.metrics, 'metrics')) out.push({ resource: rm.resource, scope: sm.scope, metric, line });
      }
    }
  });
  return out;
}

export const METRIC_DATA_KINDS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'];

/** The one data field a metric sets: {kind, data}. */
export function metricData(metric) {
  const kinds = METRIC_DATA_KINDS.filter((k) => metric[k] !== undefined);
  assert.equal(kinds.length, 1, `metric ${metric.name} must set exactly one of ${METRIC_DATA_KINDS.join('/')}: ${JSON.stringify(metric)}`);
  return { kind: kinds[0], data: metric[kinds[0]] };
}

export function dataPointCount(lines) {
  return metricsOf(lines).reduce((n, { metric }) => {
    const kinds = METRIC_DATA_KINDS.filter((k) => metric[k] !== undefined);
    return n + kinds.reduce((m, k) => m + arr(metric[k].dataPoints, `${metric.name}.dataPoints`).length, 0);
  }, 0);
}

/** Resource attributes of an item as canonical values. */
export function resourceAttributes(resource) {
  return attributes(resource?.attributes, 'resource.attributes');
}
