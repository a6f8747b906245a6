// Traces from the official OpenTelemetry JS SDK over http/json (@opentelemetry/exporter-trace-otlp-http) into otlpd.
import { test } from 'node:test';

import { tracesInterop } from './lib/traces.mjs';

test('traces over http/json (@opentelemetry/exporter-trace-otlp-http) arrive intact in otlpd', { timeout: 45000 }, () => tracesInterop('http/json'));
