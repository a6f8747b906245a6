// The web UI's other pages in headless Chromium against a real otlpd fed by the official JS SDK:
// the service dependency graph and RED table, the logs page (severity colours, jump to the
// trace), the metrics page (a line chart of an SDK counter), and error banners instead of crashes.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { apiGet, assertCleanPage, eventually, openPage, screenshot, sendShopScenario, withUi } from './lib/browser.mjs';

test('services (dependencies + RED), logs and metrics pages show the SDK\'s telemetry', { timeout: 90000 }, () => withUi(async ({ otlpd, browser, baseUrl }) => {
  const sent = await sendShopScenario(otlpd);
  await eventually(async () => {
    const deps = await apiGet(otlpd, `/api/dependencies?endTs=${Date.now()}&lookback=3600000`);
    const logs = await apiGet(otlpd, '/api/otlpd/logs?lookback=1h');
    const series = await apiGet(otlpd, '/api/otlpd/metrics/series?name=ui.orders&lookback=1h');
    return deps.status === 200 && deps.body.data.length > 0 && logs.status === 200 && logs.body.data.length === 3 &&
      series.status === 200 && series.body.data.length === 2 && series.body.data.every((s) => s.points.length >= 3);
  }, 'dependencies, logs and metric series stored');

  const { page, problems } = await openPage(browser, baseUrl);
  try {
    // --- services: dependency graph + RED ----------------------------------------------------
    await page.goto(`${baseUrl}/#/dependencies`);
    await page.waitForSelector('.graph-box[data-loaded="true"]');
    const nodes = await page.locator('svg.dep-graph g.node').evaluateAll((els) => els.map((e) => e.dataset.service).sort());
    assert.deepEqual(nodes, ['ui-checkout', 'ui-frontend']);
    const edge = page.locator('svg.dep-graph g.edge[data-parent="ui-frontend"][data-child="ui-checkout"]');
    assert.equal(await edge.count(), 1, 'frontend → checkout edge');
    assert.equal(await edge.locator('.edge-label').textContent(), '1');
    await page.waitForSelector('.red-box[data-loaded="true"]');
    const redServices = await page.locator('.red-table tr.red-row').evaluateAll((els) => els.map((e) => e.dataset.service).sort());
    assert.deepEqual(redServices, ['ui-checkout', 'ui-frontend', 'ui-linked']);
    const checkout = await page.locator('.red-table tr.red-row[data-service="ui-checkout"]').innerText();
    assert.match(checkout, /100%/, 'the checkout entry span failed: 100% errors');
    assert.match(checkout, /61ms/, 'its duration percentiles');
    // The seven-day history from the rollups: one line per service with requests, a legend.
    await page.waitForSelector('.history-chart[data-loaded="true"]');
    assert.equal(await page.locator('.history-chart svg path.series').count(), 3, 'a line per service');
    assert.deepEqual((await page.locator('.history-chart + .legend .legend-label').allTextContents()).sort(),
      ['ui-checkout', 'ui-frontend', 'ui-linked']);
    const history = await apiGet(otlpd, '/api/otlpd/red/series?lookback=168h&step=1h');
    assert.equal(history.status, 200);
    const checkoutHistory = history.body.data.find((g) => g.service === 'ui-checkout');
    assert.equal(checkoutHistory.stepSeconds, 3600);
    assert.deepEqual(checkoutHistory.points.map((p) => [p.requests, p.errors]), [[1, 1]], 'its one failed request');
    // Jaeger UI's Monitor tab asks these (Service Performance Monitoring from the rollups).
    const monitor = `service=ui-checkout&endTs=${Date.now()}&lookback=3600000&step=60000&ratePer=600000`;
    const calls = await apiGet(otlpd, `/api/metrics/calls?${monitor}`);
    assert.equal(calls.status, 200);
    assert.equal(calls.body.name, 'service_call_rate');
    assert.deepEqual(calls.body.metrics[0].labels, [{ name: 'service_name', value: 'ui-checkout' }]);
    assert.ok(calls.body.metrics[0].metricPoints.some((p) => Math.abs(p.gaugeValue.doubleValue - 1 / 600) < 1e-9),
      'one call in ten minutes');
    const latencies = await apiGet(otlpd, `/api/metrics/latencies?${monitor}&quantile=0.95&groupByOperation=true`);
    assert.equal(latencies.body.name, 'service_operation_latencies');
    assert.equal(latencies.body.metrics[0].labels[1].value, 'POST /api/checkout');
    assert.ok(latencies.body.metrics[0].metricPoints.every((p) => p.gaugeValue.doubleValue >= 60 && p.gaugeValue.doubleValue < 62),
      'its 61 ms, in ms');
    assert.equal((await apiGet(otlpd, '/api/metrics/minstep')).body.data, 60000);
    await page.selectOption('select[name="measure"]', 'errors');
    assert.equal(await page.locator('.history-chart svg').getAttribute('aria-label'), 'Error rate % of each service over seven days');
    // Per-operation rows open under a service.
    await page.locator('.red-table tr.red-row[data-service="ui-checkout"] button.expand').click();
    await page.locator('.red-table tr.red-op-row', { hasText: 'POST /api/checkout' }).waitFor();
    await screenshot(page, 'services');
    // A graph node opens the search for its service.
    await page.locator('svg.dep-graph g.node[data-service="ui-checkout"]').click();
    await page.waitForSelector('.search-results[data-loaded="true"]');
    assert.match(page.url(), /#\/search\?service=ui-checkout/);

    // --- logs page ----------------------------------------------------------------------------
    await page.goto(`${baseUrl}/#/logs`);
    await page.waitForSelector('.logs-results[data-loaded="true"]');
    const severities = await page.locator('.log-row').evaluateAll((els) => els.map((e) => [e.querySelector('.log-body').textContent, e.dataset.severity, getComputedStyle(e.querySelector('.sev-badge')).backgroundColor]));
    const bySeverity = Object.fromEntries(severities.map(([body, sev, color]) => [sev, { body, color }]));
    assert.deepEqual(Object.keys(bySeverity).sort(), ['debug', 'error', 'info']);
    assert.equal(bySeverity.error.body, 'card declined by acme');
    assert.equal(bySeverity.error.color, 'rgb(214, 39, 40)', 'errors are red');
    assert.notEqual(bySeverity.info.color, bySeverity.debug.color);
    // Minimum severity filter.
    await page.selectOption('select[name="severity"]', 'WARN');
    await page.click('.logs-filters button[type="submit"]');
    await eventually(async () => (await page.locator('.log-row').count()) === 1, 'only the ERROR record at min severity WARN');
    await screenshot(page, 'logs');
    // Jump to the trace.
    await page.locator('.log-row a.trace-link').click();
    await page.waitForSelector(`.trace-page[data-trace-id="${sent.traceID}"][data-loaded="true"]`);
    assert.equal(await page.locator('.span-details').getAttribute('data-span-id'), sent.spanIDs.charge, 'the log\'s span is selected');

    // --- metrics page -------------------------------------------------------------------------
    await page.goto(`${baseUrl}/#/metrics`);
    await page.waitForSelector('select[name="name"] option[value="ui.orders"]', { state: 'attached' });
    await page.selectOption('select[name="name"]', 'ui.orders');
    await page.click('.metrics-filters button[type="submit"]');
    await page.waitForSelector('.metric-chart[data-loaded="true"]');
    assert.equal(await page.locator('.metric-chart svg path.series').count(), 2, 'one line per attribute set');
    assert.deepEqual((await page.locator('.legend .legend-label').allTextContents()).sort(),
      ['ui-checkout · payment.method=card', 'ui-checkout · payment.method=invoice']);
    const d = await page.locator('.metric-chart svg path.series').first().getAttribute('d');
    assert.ok((d.match(/L/g) ?? []).length >= 2, `a line through several points: ${d}`);
    await screenshot(page, 'metrics');
    // An attribute filter narrows it to one line.
    await page.fill('.metrics-filters input[name="tags"]', 'payment.method=invoice');
    await page.click('.metrics-filters button[type="submit"]');
    await eventually(async () => (await page.locator('.metric-chart svg path.series').count()) === 1, 'one line for payment.method=invoice');

    // A counter can be drawn as a rate per second (from consecutive cumulative points).
    await page.fill('.metrics-filters input[name="tags"]', '');
    await page.check('.metrics-filters input[name="rate"]');
    await page.click('.metrics-filters button[type="submit"]');
    await eventually(async () => /rate=1/.test(page.url()) && (await page.locator('.metric-chart svg path.series').count()) === 2, 'two rate lines');
    await screenshot(page, 'metrics-rate');

    // --- errors become banners, not crashes --------------------------------------------------
    await page.goto(`${baseUrl}/#/trace/${'ab'.repeat(16)}`);
    await page.locator('.banner.error').waitFor();
    assert.match(await page.locator('.trace-page').innerText(), /could not be loaded/);
    await page.goto(`${baseUrl}/#/search?minDuration=fast`);
    await page.locator('.banner.error', { hasText: 'minDuration' }).waitFor();
    await screenshot(page, 'error-banner');
    assertCleanPage(problems);
  } finally {
    await page.context().close();
  }
}));
