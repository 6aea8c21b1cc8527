import pino, { type Logger } from 'pino';
import { currentTraceId } from '@countersign/telemetry';

/** Structured JSON logs; every line carries the active trace id so a proposal can be followed across services. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const trace_id = currentTraceId();
      return trace_id ? { trace_id } : {};
    },
  });
}
export type { Logger };
