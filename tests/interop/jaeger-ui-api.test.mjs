// Jaeger UI's own requests, made from inside headless Chromium on otlpd's query port the way the
// UI's API client makes them (same origin, fetch, the UI's parameter spellings): the search of
// Jaeger UI 2.20 (/api/v3/trace-summaries, camelCase) and of 2.18 (classic /api/traces), trace
// comparison (/api/traces?traceID=A&traceID=B, no service), and the Monitor tab's Service
// Performance Monitoring calls. The data comes from the official JS SDK through the real ingest.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertCleanPage, eventually, openPage, sendShopScenario, withUi } from './lib/browser.mjs';

// fetch() in the page: what the browser, not node, gets back.
async function fetchInPage(page, path) {
  return page.evaluate(async (target) => {
    const r = await fetch(target, { headers: { Accept: 'application/json' } });
    const text = await r.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: left null, the status says why
    }
    return { status: r.status, body, text };
  }, path);
}

test('Jaeger UI\'s search, compare and Monitor-tab requests, made from the browser', { timeout: 90000 }, () => withUi(async ({ otlpd, browser, baseUrl }) => {
  const sent = await sendShopScenario(otlpd);
  const { page, problems } = await openPage(browser, baseUrl);
  try {
    await page.goto(`${baseUrl}/#/search`);
    const now = Date.now();
    const min = new Date(now - 3600000).toISOString();
    const max = new Date(now + 60000).toISOString();

    // Jaeger UI 2.20's search: trace summaries by service, camelCase parameters.
    const search = `/api/v3/trace-summaries?query.serviceName=ui-frontend&query.startTimeMin=${min}&query.startTimeMax=${max}&query.searchDepth=20`;
    let summaries;
    await eventually(async () => {
      summaries = await fetchInPage(page, search);
      return summaries.status === 200 && summaries.body.summaries.some((s) => s.traceId === sent.traceID &&
        Number(s.spanCount) === 6);
    }, 'the SDK\'s trace summarised');
    const summary = summaries.body.summaries.find((s) => s.traceId === sent.traceID);
    assert.equal(summary.rootServiceName, 'ui-frontend');
    assert.equal(summary.rootOperationName, 'GET /checkout');
    assert.equal(Number(summary.errorSpanCount), 2, 'the handler and the card charge');
    assert.equal(Number(summary.orphanSpanCount || 0), 0);
    assert.ok(BigInt(summary.maxEndTimeUnixNano) - BigInt(summary.minStartTimeUnixNano) === 85000000n, 'root from 10 ms to 95 ms');
    const services = Object.fromEntries(summary.services.map((s) => [s.name, [Number(s.spanCount), Number(s.errorSpanCount || 0)]]));
    assert.deepEqual(services, { 'ui-frontend': [3, 0], 'ui-checkout': [3, 2] });
    // A window in the future finds nothing (the camelCase time bounds are honoured, not ignored).
    const future = await fetchInPage(page, `/api/v3/trace-summaries?query.serviceName=ui-frontend&query.startTimeMin=2030-01-01T00:00:00Z&query.startTimeMax=2030-01-02T00:00:00Z`);
    assert.equal(future.status, 200);
    assert.deepEqual(future.body.summaries, []);
    // A parameter Jaeger does not have is named, never ignored.
    const unknown = await fetchInPage(page, `${search}&query.colour=red`);
    assert.equal(unknown.status, 400);
    assert.match(unknown.text, /query\.colour/);

    // Jaeger UI 2.18's search: the classic API.
    const classic = await fetchInPage(page, '/api/traces?service=ui-frontend&lookback=1h&limit=20');
    assert.equal(classic.status, 200);
    assert.ok(classic.body.data.some((t) => t.traceID === sent.traceID && t.spans.length === 6));

    // Compare two traces: traceIDs only, no service.
    const compare = await fetchInPage(page, `/api/traces?traceID=${sent.traceID}&traceID=${sent.linkedTraceID}`);
    assert.equal(compare.status, 200, compare.text);
    assert.deepEqual(compare.body.data.map((t) => t.traceID).sort(), [sent.traceID, sent.linkedTraceID].sort());
    assert.deepEqual(compare.body.data.map((t) => t.spans.length).sort(), [1, 6]);

    // The Monitor tab: the services list, then calls, errors and latencies of one service, per
    // service and per operation, server spans, as the UI asks them.
    const monitorServices = await fetchInPage(page, '/api/services');
    assert.ok(monitorServices.body.data.includes('ui-checkout'));
    const window = `service=ui-checkout&endTs=${Date.now()}&lookback=3600000&step=60000&ratePer=600000&spanKind=server`;
    const calls = await fetchInPage(page, `/api/metrics/calls?${window}`);
    assert.equal(calls.status, 200, calls.text);
    assert.equal(calls.body.name, 'service_call_rate');
    assert.ok(calls.body.metrics[0].metricPoints.some((p) => Math.abs(p.gaugeValue.doubleValue - 1 / 600) < 1e-9), 'one call in ten minutes');
    const errors = await fetchInPage(page, `/api/metrics/errors?${window}&groupByOperation=true`);
    assert.equal(errors.status, 200, errors.text);
    assert.equal(errors.body.name, 'service_operation_error_rate');
    const failing = errors.body.metrics.find((m) => m.labels.some((l) => l.value === 'POST /api/checkout'));
    assert.ok(failing.metricPoints.some((p) => p.gaugeValue.doubleValue === 1), 'every call of it failed');
    for (const quantile of [0.5, 0.75, 0.95]) {
      const latencies = await fetchInPage(page, `/api/metrics/latencies?${window}&quantile=${quantile}`);
      assert.equal(latencies.status, 200, latencies.text);
      assert.ok(latencies.body.metrics[0].metricPoints.every((p) => p.gaugeValue.doubleValue >= 60 && p.gaugeValue.doubleValue < 62),
        `p${quantile * 100} of its one 61 ms call, in ms`);
    }
    const minstep = await fetchInPage(page, '/api/metrics/minstep');
    assert.equal(minstep.body.data, 60000);
    assertCleanPage(problems);
  } finally {
    await page.context().close();
  }
}));
