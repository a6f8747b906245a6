// otlpd's `prometheusremotewrite` exporter writes into Debian's real Prometheus
// (--web.enable-remote-write-receiver): every series and every sample sent over OTLP comes back
// from Prometheus's query API with equal values and timestamps, requests split below
// max_batch_size_bytes. Then bad input: samples Prometheus refuses (out of order) in the same
// batch as good ones — the good ones are stored, the refused series land in the dead-letter queue.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { withOtlpd } from './lib/otlpd.mjs';
import { eventually, startPrometheus } from './lib/prometheus.mjs';

const STEP_S = 10;
const T0_S = Math.floor(Date.now() / 1000) - 600; // ten minutes ago, whole seconds
const ns = (s) => `${BigInt(s) * 1000000000n}`;
const str = (key, value) => ({ key, value: { stringValue: value } });

function config(promUrl) {
  return (dir) => `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0" }
exporters:
  prometheusremotewrite:
    endpoint: "${promUrl}/api/v1/write"
    external_labels: { replica: r1 }
    max_batch_size_bytes: 2048
    remote_write_queue: { num_consumers: 1 }
    retry_on_failure: { max_elapsed_time: 10s }
    dead_letter_queue: { directory: ${JSON.stringify(path.join(dir, 'dlq'))} }
extensions:
  health_check: { endpoint: "127.0.0.1:0" }
service:
  extensions: [health_check]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
  pipelines:
    metrics: { receivers: [otlp], exporters: [prometheusremotewrite] }
`;
}

/** One OTLP/JSON request with the samples at times `times` (seconds); returns [request, expected]. */
function batch(times) {
  const expected = new Map(); // "labels" -> [[ts, value]]
  const add = (labels, t, v) => {
    const key = JSON.stringify(Object.fromEntries(Object.entries({ ...labels, job: 'rw', replica: 'r1', otel_scope_name: 'rw-test' }).sort()));
    if (!expected.has(key)) expected.set(key, []);
    expected.get(key).push([t, v]);
  };
  const temps = [];
  const counts = [];
  const hists = [];
  for (const t of times) {
    for (let room = 0; room < 20; room++) {
      const v = 15 + room + (t - T0_S) / 100;
      temps.push({ timeUnixNano: ns(t), asDouble: v, attributes: [str('room', `r${room}`)] });
      add({ __name__: 'rw_temp_celsius', room: `r${room}` }, t, v);
    }
    const c = (t - T0_S) / STEP_S * 3;
    counts.push({ startTimeUnixNano: ns(T0_S - 1), timeUnixNano: ns(t), asInt: String(c), attributes: [str('http.route', '/a')] });
    add({ __name__: 'rw_requests_total', http_route: '/a' }, t, c);
    const n = (t - T0_S) / STEP_S + 1;
    hists.push({ startTimeUnixNano: ns(T0_S - 1), timeUnixNano: ns(t), count: String(n * 3), sum: n * 4.5, bucketCounts: [String(n), String(n), String(n)], explicitBounds: [1, 2] });
    add({ __name__: 'rw_latency_milliseconds_bucket', le: '1' }, t, n);
    add({ __name__: 'rw_latency_milliseconds_bucket', le: '2' }, t, 2 * n);
    add({ __name__: 'rw_latency_milliseconds_bucket', le: '+Inf' }, t, 3 * n);
    add({ __name__: 'rw_latency_milliseconds_sum' }, t, n * 4.5);
    add({ __name__: 'rw_latency_milliseconds_count' }, t, 3 * n);
  }
  // target_info: one sample per request, at its latest timestamp (no scope label on it).
  const infoKey = JSON.stringify({ __name__: 'target_info', host_name: 'h-1', job: 'rw', replica: 'r1' });
  expected.set(infoKey, [[Math.max(...times), 1]]);
  const request = {
    resourceMetrics: [{
      resource: { attributes: [str('service.name', 'rw'), str('host.name', 'h-1')] },
      scopeMetrics: [{
        scope: { name: 'rw-test' },
        metrics: [
          { name: 'rw.temp', unit: 'Cel', gauge: { dataPoints: temps } },
          { name: 'rw.requests', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: counts } },
          { name: 'rw.latency', unit: 'ms', histogram: { aggregationTemporality: 2, dataPoints: hists } },
        ],
      }],
    }],
  };
  return [request, expected];
}

async function post(otlpd, request) {
  const res = await fetch(otlpd.url('otlp.http', '/v1/metrics'), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request),
    signal: AbortSignal.timeout(10000),
  });
  assert.equal(res.status, 200, await res.text());
}

/** Every raw sample of the series matching `selector`, as "labels" -> [[ts, value]]. */
async function rawSamples(prom, selector, at) {
  const data = await prom.query(`${selector}[1h]`, at);
  const out = new Map();
  for (const r of data.result) {
    const key = JSON.stringify(Object.fromEntries(Object.entries(r.metric).sort()));
    out.set(key, r.values.map(([t, v]) => [t, Number(v)]));
  }
  return out;
}

function merge(into, from) {
  for (const [k, v] of from) into.set(k, [...(into.get(k) ?? []), ...v]);
}

test('every series and sample remote-written is returned by Prometheus; refused ones are dead-lettered', { timeout: 150000 }, async () => {
  const prom = await startPrometheus({ flags: ['--web.enable-remote-write-receiver'] });
  try {
    await withOtlpd(async (otlpd) => {
      const expected = new Map();
      for (let k = 0; k < 3; k++) {
        const times = [0, 1, 2].map((i) => T0_S + (k * 3 + i) * STEP_S);
        const [request, exp] = batch(times);
        merge(expected, exp);
        await post(otlpd, request);
      }
      const last = T0_S + 8 * STEP_S;
      const got = await eventually(async () => {
        const m = await rawSamples(prom, '{job="rw"}', last + 1);
        const total = [...m.values()].reduce((n, v) => n + v.length, 0);
        const want = [...expected.values()].reduce((n, v) => n + v.length, 0);
        return total >= want ? m : null;
      }, 30000, 'all samples in Prometheus');
      assert.deepEqual(new Set(got.keys()), new Set(expected.keys()), 'the same series');
      for (const [key, samples] of expected) {
        assert.deepEqual(got.get(key), samples, `samples of ${key}`);
      }
      // Requests were split (2 KiB limit): otlpd counted several sends and nothing dead-lettered.
      const self = await otlpd.scrapeMetrics();
      assert.match(self, /otlpd_exporter_sent_metric_points_total\{exporter="prometheusremotewrite"\} [1-9]/);
      const dlqDir = path.join(otlpd.dir, 'dlq');
      assert.equal(fs.existsSync(dlqDir) ? fs.readdirSync(dlqDir).filter((f) => f.endsWith('.dlq')).length : 0, 0);

      // Bad input: one series goes back in time (Prometheus answers 400 for the whole request),
      // next to new series at new times. The new ones are stored; the old one is dead-lettered.
      const fresh = last + STEP_S;
      const request = {
        resourceMetrics: [{
          resource: { attributes: [str('service.name', 'rw-bad')] },
          scopeMetrics: [{
            scope: { name: 'rw-test' },
            metrics: [{
              name: 'rw.temp', unit: 'Cel', gauge: {
                dataPoints: [
                  ...Array.from({ length: 12 }, (_, i) => ({ timeUnixNano: ns(fresh), asDouble: 100 + i, attributes: [str('room', `new${i}`)] })),
                ],
              },
            }],
          }],
        }, {
          resource: { attributes: [str('service.name', 'rw')] },
          scopeMetrics: [{
            scope: { name: 'rw-test' },
            metrics: [{ name: 'rw.temp', unit: 'Cel', gauge: { dataPoints: [{ timeUnixNano: ns(T0_S + 5), asDouble: -1, attributes: [str('room', 'r3')] }] } }],
          }],
        }],
      };
      await post(otlpd, request);
      const stored = await eventually(async () => {
        const m = await rawSamples(prom, '{job="rw-bad"}', fresh + 1);
        return m.size >= 12 ? m : null;
      }, 30000, 'the good series of the bad batch');
      for (let i = 0; i < 12; i++) {
        const key = JSON.stringify({ __name__: 'rw_temp_celsius', job: 'rw-bad', otel_scope_name: 'rw-test', replica: 'r1', room: `new${i}` });
        assert.deepEqual(stored.get(key), [[fresh, 100 + i]]);
      }
      const dlq = path.join(otlpd.dir, 'dlq');
      const dlqFiles = () => (fs.existsSync(dlq) ? fs.readdirSync(dlq).filter((f) => f.endsWith('.dlq')) : []);
      const letters = await eventually(() => (dlqFiles().length ? dlqFiles() : null), 15000, 'a dead letter');
      assert.equal(letters.length, 1);
      const content = fs.readFileSync(path.join(dlq, letters[0]));
      const header = JSON.parse(content.subarray(0, content.indexOf(10)).toString());
      assert.equal(header.items, 1, JSON.stringify(header));
      assert.match(header.reason, /out of (order|bounds)|too old/);
      // The old sample did not replace what Prometheus had.
      const r3 = await rawSamples(prom, '{job="rw",room="r3"}', last + 1);
      assert.equal([...r3.values()][0].length, 9);
    }, { config: config(prom.url) });
  } catch (e) {
    e.message += `\nprometheus log: ${prom.log()}`;
    throw e;
  } finally {
    await prom.stop();
  }
});
