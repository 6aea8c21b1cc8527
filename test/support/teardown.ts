import type { Server } from 'node:http';
import { type KafkaProbe, closePublisher } from './kafka-probe';
import type { ServiceHandle } from './stack';

/**
 * Stops what a cross-service spec started, in this order: its services, its probe, the shared
 * publisher, then the http target it served (kept-alive connections dropped, so close returns).
 */
export async function stopSpecStack(
  services: Iterable<ServiceHandle>,
  probe: KafkaProbe,
  server?: Server,
): Promise<void> {
  await Promise.all([...services].map((s) => s.stop()));
  await probe.stop();
  await closePublisher();
  if (!server) return;
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}
