// Prometheus scrapes otlpd's `prometheus` exporter, fed by the official OpenTelemetry JS SDK over
// OTLP/HTTP: a counter, an up-down counter, a histogram and a gauge. The values Debian's real
// Prometheus returns through /api/v1/query equal what the SDK recorded (and exported), for the
// text format and for OpenMetrics (enable_open_metrics), with the Collector's names and labels.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

import { createExporter, recordingExporter, assertAllExportsSucceeded } from './lib/exporters.mjs';
import { withOtlpd } from './lib/otlpd.mjs';
import { eventually, startPrometheus } from './lib/prometheus.mjs';

const BOUNDS = [0, 5, 10, 25];
const LATENCIES = [1, 3, 7, 12, 30, 0.5];

function config(dir) {
  void dir;
  return `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0" }
exporters:
  prometheus/text:
    endpoint: "127.0.0.1:0"
    const_labels: { format: text }
  prometheus/om:
    endpoint: "127.0.0.1:0"
    enable_open_metrics: true
    const_labels: { format: om }
extensions:
  health_check: { endpoint: "127.0.0.1:0" }
service:
  extensions: [health_check]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
  pipelines:
    metrics: { receivers: [otlp], exporters: [prometheus/text, prometheus/om] }
`;
}

/** The one sample of an instant-query result, as a number; null while absent. */
function single(data) {
  if (!data || data.result.length !== 1) return null;
  return { labels: data.result[0].metric, value: Number(data.result[0].value[1]) };
}

test('Prometheus scrapes what the JS SDK recorded, text format and OpenMetrics', { timeout: 120000 }, async () => {
  await withOtlpd(async (otlpd) => {
    const prom = await startPrometheus({
      configYaml: `global: { scrape_interval: 1s, scrape_timeout: 1s }
scrape_configs:
  - job_name: otlpd-text
    honor_labels: true
    static_configs: [{ targets: ['${otlpd.endpoints['prometheus/text']}'] }]
  - job_name: otlpd-om
    honor_labels: true
    static_configs: [{ targets: ['${otlpd.endpoints['prometheus/om']}'] }]
`,
    });
    try {
      const { exporter, calls } = recordingExporter(await createExporter('metrics', 'http/protobuf', otlpd));
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3600000 });
      const provider = new MeterProvider({
        resource: resourceFromAttributes({
          'service.name': 'shop', 'service.namespace': 'interop', 'service.instance.id': 'i-1', 'host.name': 'h-7',
        }),
        readers: [reader],
      });
      const meter = provider.getMeter('interop-meter', '1.2.3');
      const requests = meter.createCounter('interop.requests', { unit: '{request}', valueType: ValueType.INT });
      requests.add(5, { 'http.route': '/a' });
      requests.add(3, { 'http.route': '/a' });
      requests.add(2, { 'http.route': '/b' });
      const queue = meter.createUpDownCounter('interop.queue.depth', { unit: '{item}', valueType: ValueType.INT });
      queue.add(10);
      queue.add(-3);
      const latency = meter.createHistogram('interop.latency', { unit: 'ms', advice: { explicitBucketBoundaries: BOUNDS } });
      for (const v of LATENCIES) latency.record(v, { 'http.route': '/a' });
      const temperature = meter.createGauge('interop.temperature', { unit: 'Cel' });
      temperature.record(20.5, { room: 'lab' });
      temperature.record(19.75, { room: 'lab' });
      await provider.forceFlush();
      assertAllExportsSucceeded(calls);

      // What the SDK exported, by metric name.
      const exported = new Map();
      for (const { items } of calls) {
        for (const sm of items.scopeMetrics) for (const m of sm.metrics) exported.set(m.descriptor.name, m);
      }
      const sdkValue = (name, pred = () => true) => exported.get(name).dataPoints.find((p) => pred(p.attributes)).value;
      assert.equal(sdkValue('interop.requests', (a) => a['http.route'] === '/a'), 8);
      const hist = sdkValue('interop.latency');
      assert.deepEqual(hist.buckets.boundaries, BOUNDS);

      for (const format of ['text', 'om']) {
        const q = (expr) => eventually(async () => single(await prom.query(expr)), 30000, `${expr} (${format})`);
        const sel = `format="${format}",job="interop/shop",instance="i-1"`;
        const a = await q(`interop_requests_total{${sel},http_route="/a"}`);
        assert.equal(a.value, sdkValue('interop.requests', (x) => x['http.route'] === '/a'));
        assert.equal(a.labels.otel_scope_name, 'interop-meter');
        assert.equal(a.labels.otel_scope_version, '1.2.3');
        const b = await q(`interop_requests_total{${sel},http_route="/b"}`);
        assert.equal(b.value, 2);
        const depth = await q(`interop_queue_depth{${sel}}`);
        assert.equal(depth.value, sdkValue('interop.queue.depth'));
        assert.equal(depth.value, 7);
        const temp = await q(`interop_temperature_celsius{${sel},room="lab"}`);
        assert.equal(temp.value, sdkValue('interop.temperature'));
        assert.equal(temp.value, 19.75);
        let cumulative = 0;
        for (let i = 0; i < BOUNDS.length; i++) {
          cumulative += hist.buckets.counts[i];
          const bucket = await q(`interop_latency_milliseconds_bucket{${sel},le="${BOUNDS[i]}"}`);
          assert.equal(bucket.value, cumulative, `bucket le=${BOUNDS[i]} (${format})`);
        }
        assert.equal((await q(`interop_latency_milliseconds_bucket{${sel},le="+Inf"}`)).value, hist.count);
        assert.equal((await q(`interop_latency_milliseconds_count{${sel}}`)).value, hist.count);
        assert.equal((await q(`interop_latency_milliseconds_sum{${sel}}`)).value, hist.sum);
        assert.equal(hist.count, LATENCIES.length);
        const info = await q(`target_info{${sel}}`);
        assert.equal(info.value, 1);
        assert.equal(info.labels.host_name, 'h-7');
      }
      // Both scrapes are up: the target parsed (OpenMetrics for the second).
      for (const job of ['otlpd-text', 'otlpd-om']) {
        const up = await eventually(async () => single(await prom.query(`up{job="${job}"}`)), 10000, `up ${job}`);
        assert.equal(up.value, 1, `${job} is up`);
      }
      await provider.shutdown();
    } catch (e) {
      e.message += `\nprometheus log: ${prom.log()}`;
      throw e;
    } finally {
      await prom.stop();
    }
  }, { config, extraReadyKeys: ['prometheus/text', 'prometheus/om'] });
});
