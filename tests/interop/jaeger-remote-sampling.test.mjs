// Jaeger remote sampling from otlpd's jaegerremotesampling extension, asked by a client nobody
// here wrote: jaeger-client's RemoteSampler (npm `jaeger-client`) polls /sampling?service= and
// builds its sampler from the answer — a rate limiter, a per-operation sampler, or the default
// probabilistic one — exactly as it would from a Jaeger agent or collector.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import jaegerClient from 'jaeger-client';
import { startOtlpd } from './lib/otlpd.mjs';
import { tempDir } from './lib/store.mjs';

const STRATEGIES = {
  service_strategies: [
    { service: 'checkout', type: 'ratelimiting', param: 7 },
    {
      service: 'cart', type: 'probabilistic', param: 0.4,
      operation_strategies: [{ operation: 'GET /cart', type: 'probabilistic', param: 0.9 }],
    },
  ],
  default_strategy: { type: 'probabilistic', param: 0.25 },
};

const config = (strategiesFile) => () => `receivers:
  otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" }, http: { endpoint: "127.0.0.1:0" } } }
exporters:
  nop:
extensions:
  health_check: { endpoint: "127.0.0.1:0" }
  jaegerremotesampling:
    source: { file: ${JSON.stringify(strategiesFile)} }
    http: { endpoint: "127.0.0.1:0" }
service:
  extensions: [health_check, jaegerremotesampling]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
`;

/** The sampler jaeger-client's RemoteSampler builds from otlpd's answer for `service`. */
function samplerFor(hostPort, service) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no sampler update for ${service}`)), 10000);
    const remote = new jaegerClient.RemoteSampler(service, {
      hostPort,
      refreshInterval: 50,  // the first poll within 50 ms; closed after the first update
      logger: { info() {}, error: (msg) => { clearTimeout(timer); reject(new Error(msg)); } },
      onSamplerUpdate: (sampler) => {
        clearTimeout(timer);
        remote.close(() => resolve(sampler));
      },
    });
  });
}

test('jaeger-client RemoteSampler takes its strategies from otlpd', { timeout: 45000 }, async () => {
  const dir = tempDir();
  const file = path.join(dir, 'strategies.json');
  fs.writeFileSync(file, JSON.stringify(STRATEGIES));
  const otlpd = await startOtlpd({ config: config(file), extraReadyKeys: ['jaegerremotesampling'] });
  try {
    const hostPort = otlpd.endpoints.jaegerremotesampling;

    const checkout = await samplerFor(hostPort, 'checkout');
    assert.equal(checkout.name(), 'RateLimitingSampler');
    assert.equal(checkout.maxTracesPerSecond, 7);

    const cart = await samplerFor(hostPort, 'cart');
    assert.equal(cart.name(), 'PerOperationSampler');
    assert.equal(cart._defaultSampler.samplingRate, 0.4);
    assert.equal(cart._samplersByOperation['GET /cart']._probabilisticSampler.samplingRate, 0.9);

    const other = await samplerFor(hostPort, 'unknown-service');
    assert.equal(other.name(), 'ProbabilisticSampler');
    assert.equal(other.samplingRate, 0.25);
  } catch (e) {
    e.message += `\n${otlpd.describe()}`;
    throw e;
  } finally {
    await otlpd.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
