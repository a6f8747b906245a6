// The web UI in headless Chromium against a real otlpd: a trace sent by the official JS SDK is
// found on the search page, its waterfall has the right rows at the right depths, a click shows a
// span's attributes, the trace's logs show in the logs tab and as markers, and a span link opens
// the linked trace. Screenshots go to the test artifacts.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  apiGet, assertCleanPage, eventually, openPage, screenshot, sendShopScenario, withUi,
} from './lib/browser.mjs';

test('search finds an SDK trace; waterfall, span details, logs and links work', { timeout: 90000 }, () => withUi(async ({ otlpd, browser, baseUrl }) => {
  const sent = await sendShopScenario(otlpd);
  // The store writes every 200 ms: wait until the API answers the trace with all its spans and logs.
  await eventually(async () => {
    const r = await apiGet(otlpd, `/api/otlpd/trace-summaries?service=ui-frontend&lookback=1h`);
    return r.status === 200 && r.body.data.some((t) => t.traceID === sent.traceID && t.spanCount === 6);
  }, 'the trace in /api/otlpd/trace-summaries');
  await eventually(async () => {
    const r = await apiGet(otlpd, `/api/otlpd/logs?traceID=${sent.traceID}&lookback=1h`);
    return r.status === 200 && r.body.data.length === 2;
  }, 'the trace\'s logs in /api/otlpd/logs');

  const { page, problems } = await openPage(browser, baseUrl);
  try {
    // --- search ---------------------------------------------------------------------------
    await page.goto(`${baseUrl}/`);
    await page.waitForSelector('.search-results[data-loaded="true"]');
    await page.selectOption('select[name="service"]', 'ui-frontend');
    await page.waitForSelector('select[name="operation"] option[value="GET /checkout"]', { state: 'attached' });
    await page.selectOption('select[name="operation"]', 'GET /checkout');
    await page.fill('input[name="tags"]', 'user.tier=gold');
    await page.click('button.find-traces');
    const result = page.locator(`a.trace-result[data-trace-id="${sent.traceID}"]`);
    await result.waitFor();
    await eventually(async () => (await page.locator('a.trace-result').count()) === 1, 'only the trace that matches the filters');
    const resultText = await result.innerText();
    assert.match(resultText, /ui-frontend/);
    assert.match(resultText, /GET \/checkout/);
    assert.match(resultText, /6 spans/);
    assert.match(resultText, /2 errors/);
    assert.match(resultText, /ui-checkout 3/);
    assert.equal(await page.locator('svg.scatter circle.point').count(), 1, 'one point in the scatter plot');
    assert.match(page.url(), /#\/search\?.*service=ui-frontend/, 'the search is in the URL');
    await screenshot(page, 'search');

    // --- waterfall --------------------------------------------------------------------------
    await result.click();
    await page.waitForSelector('.trace-page[data-loaded="true"]');
    const rows = await page.locator('.wf-row').evaluateAll((els) => els
      .sort((a, b) => Number(a.dataset.row) - Number(b.dataset.row))
      .map((el) => [el.querySelector('.wf-op').textContent, Number(el.dataset.depth), Number(el.getAttribute('aria-level')), el.querySelector('.wf-name').style.paddingLeft]));
    assert.deepEqual(rows.map(([name, depth]) => [name, depth]), sent.rows, 'rows in display order with their depth');
    for (const [name, depth, level, indent] of rows) {
      assert.equal(level, depth + 1, `${name}: aria-level`);
      assert.equal(indent, `${depth * 14 + 4}px`, `${name}: indentation`);
    }
    assert.equal(await page.locator('.trace-facts .span-count').textContent(), '6');
    assert.equal(await page.locator('.wf-row.error').count(), 2, 'the two error spans are marked');
    assert.ok(await page.locator('.wf-row[data-depth="0"].critical').count() === 1, 'the root is on the critical path');
    assert.ok(await page.locator('.wf-row .wf-critical').count() >= 3, 'critical path segments drawn');
    assert.equal(await page.locator('.wf-row .wf-log').count(), 2, 'one log marker per log record on its span');
    assert.equal(await page.locator('.wf-row .wf-event').count(), 1, 'the event is marked on its bar');
    assert.match(await page.locator('.wf-row[data-depth="3"]').first().innerText(), /postgresql SELECT orders/, 'db.* summary up front');
    await screenshot(page, 'trace-waterfall');

    // Collapsing "POST checkout" hides its 3 descendants; expanding brings them back.
    const callRow = page.locator('.wf-row', { has: page.locator('.wf-op', { hasText: /^POST checkout$/ }) });
    await callRow.locator('.wf-toggle').click();
    assert.equal(await page.locator('.wf-row').count(), 3);
    assert.match(await callRow.innerText(), /\+3/);
    await callRow.locator('.wf-toggle').click();
    assert.equal(await page.locator('.wf-row').count(), 6);

    // --- span details -----------------------------------------------------------------------
    await page.locator('.wf-row', { has: page.locator('.wf-op', { hasText: 'charge card' }) }).click();
    const details = page.locator('.span-details');
    await details.waitFor();
    assert.equal(await details.getAttribute('data-span-id'), sent.spanIDs.charge);
    assert.equal(await details.locator('tr[data-key="payment.provider"] td').textContent(), 'acme');
    assert.match(await details.innerText(), /ERROR: card declined/);
    assert.match(await details.innerText(), /payment\.retry/, 'the event');
    assert.match(await details.innerText(), /card declined by acme/, 'the span\'s log record');
    assert.match(page.url(), new RegExp(`span=${sent.spanIDs.charge}`), 'the selected span is in the URL');
    await screenshot(page, 'trace-span-details');

    // Semantic conventions first: the server span's http.* attributes lead its table.
    await page.locator('.wf-row[data-depth="2"]').click();
    await eventually(async () => (await details.getAttribute('data-span-id')) === sent.spanIDs.handler, 'details of the handler span');
    const keys = await details.locator('table.attributes tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.key));
    assert.deepEqual(keys.slice(0, 3), ['http.request.method', 'http.response.status_code', 'http.route']);
    assert.equal(keys.at(-1), 'order.items');

    // --- keyboard: arrows move the selection, ← collapses, → expands -----------------------
    await page.locator('.wf-row[data-depth="0"]').click();
    await page.keyboard.press('ArrowDown');
    await eventually(async () => (await details.locator('.span-name').textContent()) === 'POST checkout', 'ArrowDown selects the next row');
    await page.keyboard.press('ArrowLeft');
    await eventually(async () => (await page.locator('.wf-row').count()) === 3, 'ArrowLeft collapses');
    await page.keyboard.press('ArrowRight');
    await eventually(async () => (await page.locator('.wf-row').count()) === 6, 'ArrowRight expands');
    await page.keyboard.press('End');
    await eventually(async () => (await details.locator('.span-name').textContent()) === 'render page', 'End selects the last row');

    // --- zoom: double-click a row zooms to its span; dragging on the axis zooms to a range ----
    const firstTick = () => page.locator('.wf-axis .wf-tick').first().textContent();
    assert.equal(await firstTick(), '0µs');
    await page.locator('.wf-row', { has: page.locator('.wf-op', { hasText: 'SELECT orders' }) }).dblclick();
    await page.locator('button.reset-zoom').waitFor();
    assert.match(await firstTick(), /^5\.\d+ms$/, 'the axis starts just before the span (+6ms)');
    assert.equal(await page.locator('.wf-row[data-depth="3"] .wf-bar-label').first().textContent(), '14ms');
    await screenshot(page, 'trace-zoomed');
    await page.click('button.reset-zoom');
    assert.equal(await firstTick(), '0µs');
    assert.equal(await page.locator('button.reset-zoom').isVisible(), false);
    const axis = await page.locator('.wf-axis').boundingBox();
    await page.mouse.move(axis.x + axis.width * 0.5, axis.y + 5);
    await page.mouse.down();
    await page.mouse.move(axis.x + axis.width * 0.75, axis.y + 5, { steps: 4 });
    await page.mouse.up();
    await page.locator('button.reset-zoom').waitFor();
    assert.notEqual(await firstTick(), '0µs');
    await page.click('button.reset-zoom');

    // --- logs tab ---------------------------------------------------------------------------
    await page.click('.tab[data-tab="logs"]');
    const logRows = page.locator('.trace-logs .log-row');
    await logRows.first().waitFor();
    assert.deepEqual(await logRows.locator('.log-body').allTextContents(), sent.logBodies);
    assert.deepEqual(await logRows.evaluateAll((els) => els.map((e) => e.dataset.severity)), ['info', 'error']);
    await screenshot(page, 'trace-logs');
    // A log's span button selects that span in the timeline.
    await logRows.nth(1).locator('.span-link').click();
    await eventually(async () => (await page.locator('.span-details').getAttribute('data-span-id')) === sent.spanIDs.charge, 'the log\'s span selected');
    assert.equal(await page.locator('.trace-body').isVisible(), true);

    // --- a link opens the linked trace -------------------------------------------------------
    await page.locator('.wf-row[data-depth="0"]').click();
    await eventually(async () => (await page.locator('.span-details').getAttribute('data-span-id')) === sent.spanIDs.root, 'root details');
    await page.locator('.span-details a.span-link-out').click();
    await page.waitForSelector(`.trace-page[data-trace-id="${sent.linkedTraceID}"][data-loaded="true"]`);
    assert.equal(await page.locator('.wf-row .wf-op').allTextContents().then((t) => t.join()), 'linked batch job');
    assert.equal(await page.locator('.span-details .span-name').textContent(), 'linked batch job', 'the linked span is selected');

    // --- keyboard: the trace ID box opens a trace ---------------------------------------------
    await page.fill('#trace-lookup input', sent.traceID.toUpperCase());
    await page.press('#trace-lookup input', 'Enter');
    await page.waitForSelector(`.trace-page[data-trace-id="${sent.traceID}"][data-loaded="true"]`);

    assertCleanPage(problems);
  } finally {
    await page.context().close();
  }
}));
