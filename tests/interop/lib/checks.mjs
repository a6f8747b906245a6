// Assertions on otlpd's own self-metrics and debug output, shared by the per-signal scenarios.
import assert from 'node:assert/strict';

import { otherTransport, receiverLabels } from './exporters.mjs';
import { promValue } from './otlpd.mjs';

/**
 * otlpd_receiver_accepted_<kind>_total{receiver="otlp",transport} must equal `expected` exactly;
 * the refused counter for that transport and the accepted counter of the other transport must be
 * 0 or absent (this test sent nothing else).
 */
export async function assertReceiverCounters(otlpd, kind, transport, expected) {
  const accepted = `otlpd_receiver_accepted_${kind}_total`;
  const refused = `otlpd_receiver_refused_${kind}_total`;
  const { value, text } = await otlpd.waitForMetric(accepted, receiverLabels(transport), expected);
  assert.equal(value, expected,
    `${accepted}{receiver="otlp",transport="${transport}"} must be ${expected}, got ${value}; /metrics:\n${text}`);
  const refusedValue = promValue(text, refused, receiverLabels(transport));
  assert.ok(refusedValue === undefined || refusedValue === 0,
    `${refused}{transport="${transport}"} must be 0, got ${refusedValue}; /metrics:\n${text}`);
  const other = otherTransport(transport);
  const otherValue = promValue(text, accepted, receiverLabels(other));
  assert.ok(otherValue === undefined || otherValue === 0,
    `${accepted}{transport="${other}"} must be 0 (nothing was sent over ${other}), got ${otherValue}; /metrics:\n${text}`);
}

/** The debug exporter (otlpd's stdout or stderr) must mention every one of `needles`. */
export async function assertDebugOutputMentions(otlpd, needles) {
  const missing = await otlpd.waitForOutput(needles);
  assert.deepEqual(missing, [], `otlpd's debug exporter output does not mention ${missing.join(', ')}`);
}
