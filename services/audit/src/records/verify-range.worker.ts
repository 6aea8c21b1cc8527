import { parentPort, workerData } from 'node:worker_threads';
import { scanRange, type ScanRangeJob } from './chain-scan';

// A worker thread verifies one seq range, so a verify uses every core (Postgres serves each range on its own backend).
scanRange(workerData as ScanRangeJob).then(
  (result) => parentPort?.postMessage({ ok: true, result }),
  (e: unknown) => parentPort?.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) }),
);
