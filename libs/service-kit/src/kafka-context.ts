import type { KafkaContext } from '@nestjs/microservices';
import type { RawMessage } from '@countersign/bus';

/** The message as it came off the wire (the app runs the Kafka parser with `keepBinary`). */
export function rawMessageOf(ctx: KafkaContext): RawMessage {
  const m = ctx.getMessage();
  return {
    topic: ctx.getTopic(),
    partition: ctx.getPartition(),
    offset: m.offset,
    key: m.key ?? null,
    value: (m.value as Buffer | string | null) ?? null,
    headers: m.headers as RawMessage['headers'],
  };
}
