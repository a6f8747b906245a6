// Issue #12 scale-out, with real parts only, all on loopback and started here: the official
// OpenTelemetry JS SDK exports every span in its own gRPC request to Debian's nginx
// (grpc_pass, round robin), in front of two otlpd agents; the agents' `loadbalancing` exporter
// routes by trace id to two otlpd samplers running `tail_sampling`; the samplers export what they
// keep to a sink otlpd. Spans of one trace therefore arrive through different agents, and must
// still be decided on exactly one sampler, complete. Then a sampler is stopped mid-run: its share
// moves to the other and nothing acknowledged is lost.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { assertAllExportsSucceeded, recordingExporter } from './lib/exporters.mjs';
import { startGrpcBalancer } from './lib/nginx.mjs';
import { spansOf } from './lib/otlp-json.mjs';
import { otlpdBinary, promValue, startOtlpd } from './lib/otlpd.mjs';

const SPANS_PER_TRACE = 5;
const q = (s) => JSON.stringify(s);

const listeners = `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0" }
extensions:
  health_check: { endpoint: "127.0.0.1:0" }`;
const telemetry = `  extensions: [health_check]
  telemetry:
    metrics: { address: "127.0.0.1:0" }`;

function samplerConfig(sink, policies) {
  return () => `${listeners}
processors:
  tail_sampling:
    decision_wait: 20s
    root_grace: 1s
    policies:
${policies}
exporters:
  otlp:
    endpoint: ${q(sink.endpoints['otlp.grpc'])}
    tls: { insecure: true }
    retry_on_failure: { initial_interval: 100ms, max_interval: 1s }
service:
${telemetry}
  pipelines:
    traces: { receivers: [otlp], processors: [tail_sampling], exporters: [otlp] }
`;
}

function agentConfig(samplers) {
  return () => `${listeners}
exporters:
  loadbalancing:
    routing_key: traceID
    protocol:
      otlp:
        tls: { insecure: true }
        timeout: 2s
        retry_on_failure: { initial_interval: 100ms, max_interval: 500ms }
    resolver:
      static:
        hostnames: [${samplers.map((s) => q(s.endpoints['otlp.grpc'])).join(', ')}]
service:
${telemetry}
  pipelines:
    traces: { receivers: [otlp], exporters: [loadbalancing] }
`;
}

/** Starts sink, samplers, agents and nginx; fn gets them all; everything is stopped after. */
async function withDeployment(policies, fn) {
  const started = [];
  let balancer = null;
  try {
    const sink = await startOtlpd();
    started.push(sink);
    const samplers = [];
    for (let i = 0; i < 2; ++i) {
      samplers.push(await startOtlpd({ config: samplerConfig(sink, policies) }));
      started.push(samplers[i]);
    }
    const agents = [];
    for (let i = 0; i < 2; ++i) {
      agents.push(await startOtlpd({ config: agentConfig(samplers) }));
      started.push(agents[i]);
    }
    balancer = await startGrpcBalancer(agents.map((a) => a.endpoints['otlp.grpc']));
    return await fn({ sink, samplers, agents, balancer });
  } catch (e) {
    const context = `\n${started.map((o) => o.describe()).join('\n')}\n${balancer ? balancer.log() : ''}`;
    if (e instanceof Error) {
      e.message += context;
      throw e;
    }
    const parts = Array.isArray(e) ? e : [e];
    throw new Error(`${parts.map((x) => x?.stack ?? x?.message ?? String(x)).join('; ')}${context}`);
  } finally {
    if (balancer) await balancer.stop();
    for (const o of started.reverse()) {
      await o.stop(5000);
      o.cleanup();
    }
  }
}

/**
 * Sends `count` traces of SPANS_PER_TRACE spans through nginx, each span in its own request (the
 * root ends last); every `errorEvery`-th trace has an error root. Returns {traceIds, errorIds}.
 * `onTrace(i)` runs before trace i.
 */
async function sendTraces(url, count, { errorEvery = 5, onTrace = async () => {} } = {}) {
  const rec = recordingExporter(new OTLPTraceExporter({ url, timeoutMillis: 10000, concurrencyLimit: 100 }));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'scale-out-shop' }),
    spanProcessors: [new SimpleSpanProcessor(rec.exporter)],
  });
  const tracer = provider.getTracer('scale-out');
  const traceIds = [];
  const errorIds = new Set();
  for (let i = 0; i < count; ++i) {
    await onTrace(i);
    const root = tracer.startSpan(`GET /orders/${i}`, {}, ROOT_CONTEXT);
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    for (let c = 1; c < SPANS_PER_TRACE; ++c) tracer.startSpan(`step ${c}`, {}, ctx).end();
    const id = root.spanContext().traceId;
    if (i % errorEvery === 0) {
      root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
      errorIds.add(id);
    }
    root.end();
    traceIds.push(id);
    if (i % 10 === 9) await provider.forceFlush();
  }
  await provider.forceFlush();
  await provider.shutdown();
  assertAllExportsSucceeded(rec.calls, 'JS SDK through nginx');
  assert.equal(rec.calls.reduce((n, c) => n + c.items.length, 0), count * SPANS_PER_TRACE);
  return { traceIds, errorIds };
}

/**
 * `otlpd loadgen` through nginx: `traces` traces of 8 spans (its realistic shape), each whole in
 * one request of 10 traces, every request distinct. Returns the report.
 */
async function loadgen(url, traces) {
  const endpoint = url.replace('http://', '');
  const args = ['loadgen', '--endpoint', endpoint, '--count', String(traces * 8), '--batch', '80',
    '--variants', String(traces / 10), '--concurrency', '2', '--json', '--quiet'];
  const child = spawn(otlpdBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { err += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, `loadgen failed: ${err}${out}`);
  const report = JSON.parse(out.trim().split('\n').pop());
  assert.equal(report.items.acknowledged, traces * 8, `loadgen: every span acknowledged: ${out}`);
  return report;
}

async function decided(sampler, decision) {
  const text = await sampler.scrapeMetrics();
  return {
    traces: promValue(text, 'otlpd_processor_tail_sampling_traces_total', { decision }) ?? 0,
    spans: promValue(text, 'otlpd_processor_tail_sampling_spans_total', { decision }) ?? 0,
    late: promValue(text, 'otlpd_processor_tail_sampling_late_spans_total', {}) ?? 0,
  };
}

/** Spans at the sink, grouped by trace id: Map(traceId → span ids). */
function sinkTraces(sink) {
  const byTrace = new Map();
  for (const { span } of spansOf(sink.readJsonl('traces'))) {
    if (!byTrace.has(span.traceId)) byTrace.set(span.traceId, []);
    byTrace.get(span.traceId).push(span.spanId);
  }
  return byTrace;
}

async function waitFor(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last.done) return last;
    await sleep(200);
  }
  throw new Error(`${what} within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

test('nginx → 2 agents (loadbalancing by trace id) → 2 tail samplers: each trace decided once, complete', { timeout: 120000 }, async () => {
  const policies = `      - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
      - { name: some, type: probabilistic, probabilistic: { sampling_percentage: 25 } }`;
  await withDeployment(policies, async ({ sink, samplers, agents, balancer }) => {
    const SDK_TRACES = 200;
    const LOADGEN_TRACES = 100;
    const TRACES = SDK_TRACES + LOADGEN_TRACES;
    const SPANS = SDK_TRACES * SPANS_PER_TRACE + LOADGEN_TRACES * 8;
    const { traceIds, errorIds } = await sendTraces(balancer.url, SDK_TRACES);
    await loadgen(balancer.url, LOADGEN_TRACES);
    // Both agents took requests: spans of one trace came in through different agents.
    for (const agent of agents) {
      const text = await agent.scrapeMetrics();
      assert.ok((promValue(text, 'otlpd_receiver_accepted_spans_total', {}) ?? 0) > SDK_TRACES, 'each agent receives a share');
    }
    const totals = await waitFor('every trace decided', async () => {
      const kept = await Promise.all(samplers.map((s) => decided(s, 'kept')));
      const dropped = await Promise.all(samplers.map((s) => decided(s, 'dropped')));
      const traces = [...kept, ...dropped].reduce((n, d) => n + d.traces, 0);
      return { done: traces >= TRACES, traces, kept, dropped };
    }, 30000);
    // Exactly once: a trace split over two samplers would be decided twice (as two partial traces).
    assert.equal(totals.traces, TRACES, 'kept + dropped over both samplers = traces sent');
    for (let i = 0; i < 2; ++i) {
      assert.ok(totals.kept[i].traces + totals.dropped[i].traces > 0, `sampler ${i} decided a share`);
      assert.equal(totals.kept[i].late, 0, 'no span came after its trace was decided');
    }
    const keptTraces = totals.kept.reduce((n, d) => n + d.traces, 0);
    const keptSpans = totals.kept.reduce((n, d) => n + d.spans, 0);
    const droppedSpans = totals.dropped.reduce((n, d) => n + d.spans, 0);
    assert.equal(keptSpans + droppedSpans, SPANS, 'every span decided, once');

    await sink.waitForJsonl('traces', (l) => spansOf(l).length, keptSpans, { timeoutMs: 20000 });
    const atSink = sinkTraces(sink);
    assert.equal(atSink.size, keptTraces, 'the sink has exactly the kept traces');
    let spansAtSink = 0;
    for (const [id, spans] of atSink) {
      // The SDK's traces have 5 spans, loadgen's 8: each arrives complete, each span once.
      const want = traceIds.includes(id) ? SPANS_PER_TRACE : 8;
      assert.equal(new Set(spans).size, want, `trace ${id} complete`);
      assert.equal(spans.length, want, `trace ${id} has no duplicate span`);
      spansAtSink += spans.length;
    }
    assert.equal(spansAtSink, keptSpans, 'kept traces are complete');
    for (const id of errorIds) assert.ok(atSink.has(id), `error trace ${id} kept`);
    assert.ok(keptTraces > errorIds.size, 'the probabilistic policy kept some of the rest');
    assert.ok(keptTraces < TRACES, 'and dropped others');
  });
});

test('a sampler stopped mid-run: its share moves to the other and nothing acknowledged is lost', { timeout: 120000 }, async () => {
  const policies = '      - { name: all, type: always_sample }';
  await withDeployment(policies, async ({ sink, samplers, agents, balancer }) => {
    const TRACES = 200;
    let stopped = null;
    const { traceIds } = await sendTraces(balancer.url, TRACES, {
      onTrace: async (i) => {
        if (i === TRACES / 2) stopped = samplers[1].stop(10000); // SIGTERM: it decides what it holds
      },
    });
    const exit = await stopped;
    assert.equal(exit.code, 0, 'the stopped sampler exits cleanly');
    // Every span the SDK had acknowledged reaches the sink (duplicates would only come from a
    // retried request; none are expected here and they would not hide a loss).
    const want = TRACES * SPANS_PER_TRACE;
    await sink.waitForJsonl('traces', (l) => new Set(spansOf(l).map((s) => s.span.spanId)).size, want, { timeoutMs: 40000 });
    const atSink = sinkTraces(sink);
    for (const id of traceIds) {
      assert.equal(new Set(atSink.get(id) ?? []).size, SPANS_PER_TRACE, `every span of trace ${id} reached the sink`);
    }
    // The agents routed the stopped sampler's keys, and handed its queued spans, to the other.
    let movedAway = 0;
    for (const agent of agents) {
      const text = await agent.scrapeMetrics();
      movedAway += promValue(text, 'otlpd_loadbalancer_rerouted_spans_total', {}) ?? 0;
    }
    assert.ok(movedAway > 0, 'spans were rerouted past the stopped sampler');
    // The remaining sampler took over: it decided traces after the other stopped.
    const after = await decided(samplers[0], 'kept');
    assert.ok(after.traces > TRACES / 4, `the remaining sampler kept its share and more (${after.traces})`);
  });
});
