import pino, { type Logger } from 'pino';
import { currentTraceId } from '@countersign/telemetry';

/** Structured JSON logs; every line carries the active trace id so a proposal can be followed across services. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Bearer tokens and cookies are credentials: they never reach a log line.
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'],
      censor: '[redacted]',
    },
    mixin() {
      const trace_id = currentTraceId();
      return trace_id ? { trace_id } : {};
    },
  });
}
export type { Logger };
