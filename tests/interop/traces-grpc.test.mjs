// Traces from the official OpenTelemetry JS SDK over grpc (@opentelemetry/exporter-trace-otlp-grpc) into otlpd.
import { test } from 'node:test';

import { tracesInterop } from './lib/traces.mjs';

test('traces over grpc (@opentelemetry/exporter-trace-otlp-grpc) arrive intact in otlpd', { timeout: 45000 }, () => tracesInterop('grpc'));
