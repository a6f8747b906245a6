// Traces from the official OpenTelemetry JS SDK over grpc with gzip (grpc-js compresses each
// message): otlpd's receiver inflates them itself (libdeflate, bounded; issue #18), not gRPC.
import { test } from 'node:test';

import { tracesInterop } from './lib/traces.mjs';

test('gzip-compressed traces over grpc (@opentelemetry/exporter-trace-otlp-grpc) arrive intact in otlpd', { timeout: 45000 }, () => tracesInterop('grpc', { compression: 'gzip' }));
