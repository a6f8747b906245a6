// Metrics: the JS SDK's MeterProvider + PeriodicExportingMetricReader + an official OTLP metric
// exporter -> otlpd; then checks otlpd's accepted-points counter and the metrics its file
// exporter wrote.
import assert from 'node:assert/strict';

import { ValueType } from '@opentelemetry/api';
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

import { assertReceiverCounters } from './checks.mjs';
import { PROTOCOLS, assertAllExportsSucceeded, createExporter, recordingExporter } from './exporters.mjs';
import {
  S, attributes, dataPointCount, double, hrNanos, int64, int64Opt, metricData, metricsOf, resourceAttributes,
} from './otlp-json.mjs';
import { withOtlpd } from './otlpd.mjs';

// OTLP AggregationTemporality numbers.
const DELTA = 1;
const CUMULATIVE = 2;

// Per protocol, so both temporalities cross every transport family.
const TEMPORALITY = { grpc: CUMULATIVE, 'http/protobuf': DELTA, 'http/json': CUMULATIVE };

const HISTOGRAM_BOUNDS = [0, 5, 10, 25];
const HISTOGRAM_VALUES = [1, 3, 7, 12, 30, 0.5];
// (-inf,0] (0,5] (5,10] (10,25] (25,+inf)
const HISTOGRAM_BUCKETS = [0, 3, 1, 1, 1];

function produceMetrics(meter) {
  const requests = meter.createCounter('interop.requests', {
    description: 'requests handled', unit: '{request}', valueType: ValueType.INT,
  });
  requests.add(5, { 'http.route': '/a', 'http.ok': true });
  requests.add(3, { 'http.route': '/a', 'http.ok': true });
  requests.add(2, { 'http.route': '/b', 'http.ok': false });

  const queue = meter.createUpDownCounter('interop.queue.depth', { unit: '{item}', valueType: ValueType.INT });
  queue.add(10);
  queue.add(-3);

  const latency = meter.createHistogram('interop.latency', {
    description: 'request latency', unit: 'ms', advice: { explicitBucketBoundaries: HISTOGRAM_BOUNDS },
  });
  for (const v of HISTOGRAM_VALUES) latency.record(v, { 'http.route': '/a' });

  const temperature = meter.createGauge('interop.temperature', { unit: 'Cel' });
  temperature.record(20.5, { room: 'lab' });
  temperature.record(21.5, { room: 'lab' });
  temperature.record(19.75, { room: 'lab' });

  const cpu = meter.createObservableGauge('interop.cpu.utilization', { unit: '1' });
  cpu.addCallback((result) => {
    result.observe(0.25, { cpu: 0 });
    result.observe(0.75, { cpu: 1 });
  });
}

/** The data points of the one metric called `name`, with its metadata. */
function onlyMetric(all, name) {
  const found = all.filter((m) => m.metric.name === name);
  assert.equal(found.length, 1, `exactly one metric ${name} in the file, found ${found.length}`);
  return found[0];
}

/** Data points keyed by a canonical rendering of their attributes. */
function pointsByAttributes(points, what) {
  const out = {};
  for (const p of points) {
    const key = JSON.stringify(Object.entries(attributes(p.attributes, `${what}.attributes`))
      .sort(([a], [b]) => (a < b ? -1 : 1)), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
    assert.ok(!(key in out), `${what}: two data points with attributes ${key}`);
    out[key] = p;
  }
  return out;
}

const attrKey = (obj) => JSON.stringify(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : 1)),
  (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

function assertNumberPoint(p, what, { asInt, asDouble }) {
  if (asInt !== undefined) {
    assert.equal(p.asDouble, undefined, `${what} must be asInt, not asDouble: ${JSON.stringify(p)}`);
    assert.equal(int64(p.asInt, `${what}.asInt`), BigInt(asInt), `${what}.asInt`);
  } else {
    assert.equal(p.asInt, undefined, `${what} must be asDouble, not asInt: ${JSON.stringify(p)}`);
    assert.equal(double(p.asDouble, `${what}.asDouble`), asDouble, `${what}.asDouble`);
  }
}

function assertTimes(p, what, sdkPoint) {
  const time = int64(p.timeUnixNano, `${what}.timeUnixNano`);
  assert.equal(time, hrNanos(sdkPoint.endTime), `${what}.timeUnixNano is what the SDK exported`);
  if (sdkPoint.startTime) {
    assert.equal(int64Opt(p.startTimeUnixNano, `${what}.startTimeUnixNano`), hrNanos(sdkPoint.startTime),
      `${what}.startTimeUnixNano is what the SDK exported`);
  }
}

export async function metricsInterop(protocol) {
  const { transport } = PROTOCOLS[protocol];
  const temporality = TEMPORALITY[protocol];
  const serviceName = `otlpd-interop-metrics-${protocol.replace('/', '-')}`;
  await withOtlpd(async (otlpd) => {
    const { exporter, calls } = recordingExporter(await createExporter('metrics', protocol, otlpd, {
      temporalityPreference: temporality === DELTA
        ? AggregationTemporalityPreference.DELTA : AggregationTemporalityPreference.CUMULATIVE,
    }));
    // A long interval: the only collection is the one shutdown() makes, so exactly one export.
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 600000, exportTimeoutMillis: 15000 });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': serviceName }),
      readers: [reader],
    });
    produceMetrics(provider.getMeter('otlpd-interop-meter', '0.9.2'));
    await provider.shutdown();

    assertAllExportsSucceeded(calls, `${protocol} metric exporter`);
    assert.equal(calls.length, 1, 'one collection, one export');
    const sdkMetrics = new Map(); // name -> SDK MetricData, for the SDK-chosen timestamps
    for (const sm of calls[0].items.scopeMetrics) for (const m of sm.metrics) sdkMetrics.set(m.descriptor.name, m);
    const sdkPoints = [...sdkMetrics.values()].reduce((n, m) => n + m.dataPoints.length, 0);
    const EXPECTED_POINTS = 7; // requests x2, queue x1, latency x1, temperature x1, cpu x2
    assert.equal(sdkPoints, EXPECTED_POINTS, 'data points the SDK exported');

    await assertReceiverCounters(otlpd, 'metric_points', transport, EXPECTED_POINTS);
    const lines = await otlpd.waitForJsonl('metrics', dataPointCount, EXPECTED_POINTS);
    assert.equal(dataPointCount(lines), EXPECTED_POINTS, 'data points in the file = points sent = accepted counter');
    const all = metricsOf(lines);
    assert.deepEqual(all.map((m) => m.metric.name).sort(), [
      'interop.cpu.utilization', 'interop.latency', 'interop.queue.depth', 'interop.requests', 'interop.temperature',
    ], 'the file holds exactly the metrics sent');
    for (const { resource, scope, metric } of all) {
      assert.deepEqual(resourceAttributes(resource)['service.name'], S(serviceName), `${metric.name}: resource service.name`);
      assert.equal(scope?.name, 'otlpd-interop-meter', `${metric.name}: scope name`);
      assert.equal(scope?.version, '0.9.2', `${metric.name}: scope version`);
    }
    const sdkPoint = (name, attrs) => {
      const p = sdkMetrics.get(name).dataPoints.find((d) => attrKey(d.attributes) === attrKey(attrs));
      assert.ok(p, `SDK point ${name} ${JSON.stringify(attrs)}`);
      return p;
    };

    // Counter -> monotonic sum.
    {
      const { metric } = onlyMetric(all, 'interop.requests');
      assert.equal(metric.description, 'requests handled');
      assert.equal(metric.unit, '{request}');
      const { kind, data } = metricData(metric);
      assert.equal(kind, 'sum', 'a counter is a sum');
      assert.equal(data.isMonotonic, true, 'counter sum is monotonic');
      assert.equal(data.aggregationTemporality, temporality, 'counter temporality (integer enum)');
      assert.equal(data.dataPoints.length, 2, 'one point per attribute set');
      const pts = pointsByAttributes(data.dataPoints, 'requests');
      const a = pts[attrKey({ 'http.ok': { bool: true }, 'http.route': { string: '/a' } })];
      const b = pts[attrKey({ 'http.ok': { bool: false }, 'http.route': { string: '/b' } })];
      assert.ok(a && b, `points for /a and /b: ${JSON.stringify(data.dataPoints)}`);
      assertNumberPoint(a, 'requests{/a}', { asInt: 8 });
      assertNumberPoint(b, 'requests{/b}', { asInt: 2 });
      assertTimes(a, 'requests{/a}', sdkPoint('interop.requests', { 'http.route': '/a', 'http.ok': true }));
      assertTimes(b, 'requests{/b}', sdkPoint('interop.requests', { 'http.route': '/b', 'http.ok': false }));
    }

    // UpDownCounter -> non-monotonic sum, always cumulative.
    {
      const { metric } = onlyMetric(all, 'interop.queue.depth');
      assert.equal(metric.unit, '{item}');
      const { kind, data } = metricData(metric);
      assert.equal(kind, 'sum');
      assert.ok(data.isMonotonic === false || data.isMonotonic === undefined, 'up-down counter sum is not monotonic');
      assert.equal(data.aggregationTemporality, CUMULATIVE, 'up-down counters stay cumulative');
      assert.equal(data.dataPoints.length, 1);
      assertNumberPoint(data.dataPoints[0], 'queue.depth', { asInt: 7 });
      assert.deepEqual(attributes(data.dataPoints[0].attributes), {});
      assertTimes(data.dataPoints[0], 'queue.depth', sdkPoint('interop.queue.depth', {}));
    }

    // Histogram.
    {
      const { metric } = onlyMetric(all, 'interop.latency');
      assert.equal(metric.description, 'request latency');
      assert.equal(metric.unit, 'ms');
      const { kind, data } = metricData(metric);
      assert.equal(kind, 'histogram');
      assert.equal(data.aggregationTemporality, temporality, 'histogram temporality (integer enum)');
      assert.equal(data.dataPoints.length, 1);
      const [p] = data.dataPoints;
      assert.deepEqual(attributes(p.attributes), { 'http.route': S('/a') });
      const count = int64(p.count, 'histogram.count');
      assert.equal(count, BigInt(HISTOGRAM_VALUES.length), 'histogram count');
      assert.equal(double(p.sum, 'histogram.sum'), HISTOGRAM_VALUES.reduce((x, y) => x + y, 0), 'histogram sum');
      assert.deepEqual((p.explicitBounds ?? []).map((x) => double(x, 'explicitBounds[]')), HISTOGRAM_BOUNDS, 'explicit bounds');
      const buckets = (p.bucketCounts ?? []).map((x) => int64(x, 'bucketCounts[]'));
      assert.equal(buckets.length, HISTOGRAM_BOUNDS.length + 1, 'bucketCounts has bounds + 1 entries');
      assert.equal(buckets.reduce((x, y) => x + y, 0n), count, 'bucket counts add up to count');
      assert.deepEqual(buckets, HISTOGRAM_BUCKETS.map(BigInt), 'bucket counts');
      assert.equal(double(p.min, 'histogram.min'), 0.5, 'histogram min');
      assert.equal(double(p.max, 'histogram.max'), 30, 'histogram max');
      assertTimes(p, 'latency', sdkPoint('interop.latency', { 'http.route': '/a' }));
    }

    // Synchronous gauge: last value wins.
    {
      const { metric } = onlyMetric(all, 'interop.temperature');
      assert.equal(metric.unit, 'Cel');
      const { kind, data } = metricData(metric);
      assert.equal(kind, 'gauge');
      assert.equal(data.dataPoints.length, 1);
      assertNumberPoint(data.dataPoints[0], 'temperature', { asDouble: 19.75 });
      assert.deepEqual(attributes(data.dataPoints[0].attributes), { room: S('lab') });
      assertTimes(data.dataPoints[0], 'temperature', sdkPoint('interop.temperature', { room: 'lab' }));
    }

    // Observable gauge.
    {
      const { metric } = onlyMetric(all, 'interop.cpu.utilization');
      const { kind, data } = metricData(metric);
      assert.equal(kind, 'gauge');
      assert.equal(data.dataPoints.length, 2);
      const pts = pointsByAttributes(data.dataPoints, 'cpu');
      const c0 = pts[attrKey({ cpu: { int: 0n } })];
      const c1 = pts[attrKey({ cpu: { int: 1n } })];
      assert.ok(c0 && c1, `points for cpu 0 and 1 (integer attributes): ${JSON.stringify(data.dataPoints)}`);
      assertNumberPoint(c0, 'cpu{0}', { asDouble: 0.25 });
      assertNumberPoint(c1, 'cpu{1}', { asDouble: 0.75 });
    }

    await assertReceiverCounters(otlpd, 'metric_points', transport, EXPECTED_POINTS);
  });
}
