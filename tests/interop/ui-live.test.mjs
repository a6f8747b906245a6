// The live view in headless Chromium: with "Follow new traces" on, a trace the official JS SDK
// sends after the page opened appears on the search page by itself (Server-Sent Events from
// /api/otlpd/live), and a bad live request is a 400 naming the parameter.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { apiGet, assertCleanPage, openPage, sendShopScenario, withUi } from './lib/browser.mjs';

test('a trace sent after the search page opened appears on it', { timeout: 90000 }, () => withUi(async ({ otlpd, browser, baseUrl }) => {
  const bad = await apiGet(otlpd, '/api/otlpd/live?colour=red');
  assert.equal(bad.status, 400);
  assert.match(bad.body.errors[0].msg, /'colour'/);

  const { page, problems } = await openPage(browser, baseUrl);
  try {
    await page.goto(`${baseUrl}/#/search?service=ui-checkout&lookback=15m`);
    await page.waitForSelector('.search-results[data-loaded="true"]');
    assert.equal(await page.locator('.trace-result').count(), 0, 'nothing stored yet');
    await page.check('input[name="follow"]');
    await page.waitForSelector('.search-page[data-live="open"]');
    const started = Date.now();
    const sent = await sendShopScenario(otlpd);
    // No click: the row comes by itself (the SDK's export, the store's write and the stream's
    // poll take well under 2 s; the bound is generous for a loaded machine).
    await page.waitForSelector(`.trace-result[data-trace-id="${sent.traceID}"]`, { timeout: 20000 });
    console.log(`live view: the trace appeared ${Date.now() - started} ms after the SDK started sending`);
    assert.match(await page.locator('.live-badge').textContent(), /^live/);
    // Following stops when unticked (the stream is closed).
    await page.uncheck('input[name="follow"]');
    assert.equal(await page.locator('.search-page').getAttribute('data-live'), null);
    assertCleanPage(problems);
  } finally {
    await page.context().close();
  }
}));
