import { startTelemetry } from '@countersign/telemetry';

// Imported first by main.ts: instrumentation must patch http, pg and kafkajs before they load.
startTelemetry('execution-binding');
