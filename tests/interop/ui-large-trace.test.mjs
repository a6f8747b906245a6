// A 50,000-span trace in the web UI (headless Chromium): it opens, the waterfall keeps only the
// rows in view in the DOM, scrolling to the bottom shows the last span, collapsing and the
// minimap work, and it all stays within a time budget.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { apiGet, assertCleanPage, eventually, openPage, screenshot, sendBigTrace, withUi } from './lib/browser.mjs';

const SPANS = 50000;

test('a 50,000-span trace opens and scrolls with virtualised rows', { timeout: 120000 }, () => withUi(async ({ otlpd, browser, baseUrl }) => {
  const big = await sendBigTrace(otlpd, SPANS);
  await eventually(async () => {
    const r = await apiGet(otlpd, `/api/otlpd/trace-summaries?service=big-gateway&lookback=1h&limit=5`);
    return r.status === 200 && r.body.data.some((t) => t.traceID === big.traceID && t.spanCount === SPANS);
  }, 'all 50,000 spans stored', { timeoutMs: 30000, intervalMs: 500 });

  const { page, problems } = await openPage(browser, baseUrl);
  try {
    const started = Date.now();
    await page.goto(`${baseUrl}/trace/${big.traceID}`); // a path route: the app moves it to #/trace/<id>
    await page.waitForSelector('.trace-page[data-loaded="true"]', { timeout: 45000 });
    const openMs = Date.now() - started;
    assert.match(page.url(), new RegExp(`#/trace/${big.traceID}$`));
    assert.equal(await page.locator('.trace-facts .span-count').textContent(), String(SPANS));
    const firstRows = await page.locator('.wf-row').count();
    assert.ok(firstRows > 10 && firstRows < 200, `only the rows in view are in the DOM (${firstRows})`);
    assert.equal(await page.locator('.wf-row[data-row="0"] .wf-op').textContent(), 'big-0');
    const spacerHeight = await page.locator('.wf-spacer').evaluate((el) => el.offsetHeight);
    assert.equal(spacerHeight, SPANS * 24, 'the scroller is as tall as every row');
    await screenshot(page, 'large-trace-top');

    // Scroll to the bottom: the last span in display order is drawn, still few rows in the DOM.
    const scrollStarted = Date.now();
    await page.locator('.wf-scroller').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    const last = page.locator('.wf-row .wf-op', { hasText: new RegExp(`^${big.lastSpanName}$`) });
    await last.waitFor({ timeout: 5000 });
    const scrollMs = Date.now() - scrollStarted;
    const bottomRows = await page.locator('.wf-row').count();
    assert.ok(bottomRows < 200, `still only the rows in view (${bottomRows})`);
    const lastRow = await page.locator('.wf-row').evaluateAll((els) => Math.max(...els.map((e) => Number(e.dataset.row))));
    assert.equal(lastRow, SPANS - 1);
    assert.equal(await page.locator(`.wf-row[data-row="${SPANS - 1}"] .wf-op`).textContent(), big.lastSpanName);
    await screenshot(page, 'large-trace-bottom');

    // Scroll through the middle in steps, as a user would: rows follow.
    for (const frac of [0.25, 0.5, 0.75]) {
      await page.locator('.wf-scroller').evaluate((el, f) => { el.scrollTop = f * el.scrollHeight; }, frac);
      const row = Math.floor((frac * SPANS * 24) / 24);
      await page.locator(`.wf-row[data-row="${row}"]`).waitFor({ timeout: 5000 });
    }

    // Collapse all: only the root and its 4 children remain; expand again.
    await page.click('.collapse-all');
    await eventually(async () => (await page.locator('.wf-row').count()) === 5, 'collapsed to the root\'s children');
    await page.click('.expand-all');
    await eventually(async () => (await page.locator('.wf-spacer').evaluate((el) => el.offsetHeight)) === SPANS * 24, 'expanded again');

    // The minimap scrolls the waterfall: a click near its bottom shows the last rows.
    await page.locator('.wf-scroller').evaluate((el) => { el.scrollTop = 0; });
    const box = await page.locator('.minimap').boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height - 2);
    await eventually(async () => (await page.locator('.wf-scroller').evaluate((el) => el.scrollTop)) > SPANS * 24 * 0.9, 'the minimap scrolled to the end');

    // Selecting a deep span via the URL expands and scrolls to it.
    await page.evaluate((id) => { location.hash = `#/trace/${id}?span=${(12345 + 1).toString(16).padStart(16, '0')}`; }, big.traceID);
    await page.locator('.span-details .span-name', { hasText: /^big-12345$/ }).waitFor();
    await page.locator('.wf-row.selected .wf-op', { hasText: /^big-12345$/ }).waitFor();
    await screenshot(page, 'large-trace-selected');

    assert.ok(openMs < 40000, `opening took ${openMs} ms`);
    assert.ok(scrollMs < 5000, `scrolling to the end took ${scrollMs} ms`);
    process.stdout.write(`# 50k spans: opened in ${openMs} ms, scrolled to the end in ${scrollMs} ms\n`);
    assertCleanPage(problems);
  } finally {
    await page.context().close();
  }
}));
