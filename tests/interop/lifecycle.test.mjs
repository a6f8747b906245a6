// The process contract the interop tests rely on: ready file, health check, self-metrics endpoint,
// clean exit on SIGTERM.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startOtlpd, promSamples } from './lib/otlpd.mjs';

test('otlpd reports its bound ports, serves health and metrics, and exits 0 on SIGTERM', { timeout: 45000 }, async () => {
  const otlpd = await startOtlpd();
  try {
    const ports = Object.values(otlpd.endpoints).map((e) => Number(e.split(':')[1]));
    assert.equal(new Set(ports).size, 4, `four distinct ports: ${JSON.stringify(otlpd.endpoints)}`);

    const health = await otlpd.httpGet('health_check', '/');
    assert.equal(health.status, 200, `GET / on health_check: ${health.status} ${health.body}`);

    const metrics = await otlpd.httpGet('telemetry.metrics', '/metrics');
    assert.equal(metrics.status, 200, `GET /metrics: ${metrics.status} ${metrics.body}`);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/, 'Prometheus text content type');
    // Nothing was sent yet: any receiver counter already exposed must be 0.
    for (const kind of ['spans', 'metric_points', 'log_records']) {
      for (const name of [`otlpd_receiver_accepted_${kind}_total`, `otlpd_receiver_refused_${kind}_total`]) {
        for (const s of promSamples(metrics.body, name)) {
          assert.equal(s.value, 0, `${name}${JSON.stringify(s.labels)} before any request`);
        }
      }
    }
  } catch (e) {
    await otlpd.stop(5000);
    otlpd.cleanup();
    e.message += `\n${otlpd.describe()}`;
    throw e;
  }
  const stopped = await otlpd.stop();
  otlpd.cleanup();
  assert.deepEqual(stopped, { code: 0, signal: null, killed: false },
    `exit on SIGTERM within 10 s with code 0\n${otlpd.describe()}`);
});
