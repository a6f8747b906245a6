// Hostile telemetry in the web UI (headless Chromium): span names, attribute keys and values,
// event names and log bodies that contain HTML and script are shown as text, and no script runs
// (window.__xss stays undefined) on any page that shows them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { apiGet, assertCleanPage, eventually, openPage, screenshot, sendHostileScenario, withUi, XSS } from './lib/browser.mjs';

async function assertNoScriptRan(page, where) {
  assert.equal(await page.evaluate(() => typeof window.__xss), 'undefined', `${where}: injected script ran`);
  // No element came from the data: no <img>, <script> or <svg onload> outside the app's own markup.
  const injected = await page.evaluate(() => [...document.querySelectorAll('img, script:not([src]), svg[onload], [onerror], [onload]')].map((e) => e.outerHTML));
  assert.deepEqual(injected, [], `${where}: elements built from data`);
}

test('markup and script in span names, attributes and log bodies are shown as text', { timeout: 90000 }, () => withUi(async ({ otlpd, browser, baseUrl }) => {
  const { traceID } = await sendHostileScenario(otlpd);
  await eventually(async () => {
    const t = await apiGet(otlpd, `/api/otlpd/trace-summaries?service=ui-hostile&lookback=1h`);
    const l = await apiGet(otlpd, `/api/otlpd/logs?service=ui-hostile&lookback=1h`);
    return t.status === 200 && t.body.data.some((x) => x.traceID === traceID && x.spanCount === 2) && l.status === 200 && l.body.data.length === 2;
  }, 'the hostile trace and logs stored');

  const { page, problems } = await openPage(browser, baseUrl);
  try {
    // Search results show the root span name as text.
    await page.goto(`${baseUrl}/#/search?service=ui-hostile`);
    const result = page.locator(`a.trace-result[data-trace-id="${traceID}"]`);
    await result.waitFor();
    assert.equal(await result.locator('.root-name').textContent(), XSS.img);
    await assertNoScriptRan(page, 'search');

    // The waterfall and the span details.
    await result.click();
    await page.waitForSelector('.trace-page[data-loaded="true"]');
    assert.deepEqual(await page.locator('.wf-row .wf-op').allTextContents(), [XSS.img, XSS.script]);
    assert.ok((await page.locator('.trace-title').textContent()).includes(XSS.img), 'trace title');
    await page.locator('.wf-row[data-depth="0"]').click();
    const details = page.locator('.span-details');
    await details.waitFor();
    assert.equal(await details.locator('.span-name').textContent(), XSS.img);
    assert.equal(await details.locator('tr[data-key="http.route"] td').textContent(), XSS.script);
    assert.equal(await details.locator('tr[data-key="note"] td').textContent(), XSS.svg);
    assert.ok((await details.locator('table.attributes th').allTextContents()).includes(XSS.img), 'attribute key as text');
    assert.equal(await details.locator('.log-item .log-body').textContent(), XSS.script);
    await page.locator('.wf-row[data-depth="1"]').click();
    await eventually(async () => (await details.locator('.span-name').textContent()) === XSS.script, 'child details');
    assert.equal(await details.locator('.event-name').textContent(), XSS.svg);
    assert.equal(await details.locator('.log-item .log-body').textContent(), XSS.img);
    await page.click('.tab[data-tab="logs"]');
    assert.deepEqual(await page.locator('.trace-logs .log-body').allTextContents(), [XSS.img, XSS.script]);
    await screenshot(page, 'escaping-trace');
    await assertNoScriptRan(page, 'trace page');

    // The logs page, with a row opened to show its attributes.
    await page.goto(`${baseUrl}/#/logs?service=ui-hostile`);
    await page.waitForSelector('.logs-results[data-loaded="true"]');
    assert.deepEqual((await page.locator('.log-row .log-body').allTextContents()).sort(), [XSS.img, XSS.script].sort());
    await page.locator('.log-row', { hasText: 'WARN' }).click();
    assert.equal(await page.locator('.log-detail:not([hidden]) tr[data-key="html"] td').textContent(), XSS.script);
    await screenshot(page, 'escaping-logs');
    await assertNoScriptRan(page, 'logs page');

    // The hostile text in the trace search box is refused, not injected.
    await page.fill('#trace-lookup input', XSS.script);
    await page.press('#trace-lookup input', 'Enter');
    await page.locator('.banner.error', { hasText: 'is not a trace ID' }).waitFor();
    await assertNoScriptRan(page, 'banner');
    assertCleanPage(problems);
  } finally {
    await page.context().close();
  }
}));
