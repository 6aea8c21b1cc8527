/**
 * The broker this Jest worker's tests use. `TEST_KAFKA_BROKERS` is one broker list
 * (`host:port,host:port`), or several separated by `;`: one per Jest worker, so that parallel
 * workers never share topics (every stack uses the same topic names). Worker N (JEST_WORKER_ID,
 * 1-based) takes list N, wrapping round when there are more workers than lists.
 */
export function testKafkaBrokers(env: NodeJS.ProcessEnv = process.env): string {
  const sets = (env['TEST_KAFKA_BROKERS'] ?? env['KAFKA_BROKERS'] ?? '127.0.0.1:9092')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
  if (sets.length === 0) throw new Error('TEST_KAFKA_BROKERS names no broker');
  const worker = Number(env['JEST_WORKER_ID'] ?? '1');
  return sets[(Number.isInteger(worker) && worker > 0 ? worker - 1 : 0) % sets.length]!;
}
