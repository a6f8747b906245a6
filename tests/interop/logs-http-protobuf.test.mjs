// Logs from the official OpenTelemetry JS SDK over http/protobuf (@opentelemetry/exporter-logs-otlp-proto) into otlpd.
import { test } from 'node:test';

import { logsInterop } from './lib/logs.mjs';

test('logs over http/protobuf (@opentelemetry/exporter-logs-otlp-proto) arrive intact in otlpd', { timeout: 45000 }, () => logsInterop('http/protobuf'));
