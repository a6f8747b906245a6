// Traces from the official OpenTelemetry JS SDK over http/protobuf (@opentelemetry/exporter-trace-otlp-proto) into otlpd.
import { test } from 'node:test';

import { tracesInterop } from './lib/traces.mjs';

test('traces over http/protobuf (@opentelemetry/exporter-trace-otlp-proto) arrive intact in otlpd', { timeout: 45000 }, () => tracesInterop('http/protobuf'));
