import { headersAsText } from '@countersign/bus';
import { BUS_LOGGER, rawMessageOf } from '@countersign/service-kit';
import { dlqTopic } from '@countersign/contracts';
import { currentTraceContext } from '@countersign/telemetry';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '@countersign/clock';
import { AppendRecordsUseCase } from './append-records.use-case';
import { entryFromDlq, type DlqMessage } from './core/audit-entry';
import { RECORDED_TOPICS } from './recorded-topics';
import { ShutdownSignal } from './shutdown-signal';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const asText = (v: Buffer | string | null) => (v === null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : v);
const asBytes = (v: Buffer | string | null) => (v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8'));

/**
 * Every `<topic>.dlq` (not audit.recorded.dlq: recording a rejected audit record would emit another
 * audit record, which a consumer rejecting them all would send back, for ever). A DLQ message has
 * no contract in the shared inbox, so it is parsed here; whatever it is, it is recorded.
 */
@Controller()
export class DlqRecordsConsumer {
  constructor(
    private readonly append: AppendRecordsUseCase,
    private readonly shutdown: ShutdownSignal,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
  ) {}

  @EventPattern(RECORDED_TOPICS.map(dlqTopic))
  onDlqMessage(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.record(ctx);
  }

  private async record(ctx: KafkaContext): Promise<void> {
    const raw = rawMessageOf(ctx);
    const msg: DlqMessage = {
      topic: raw.topic,
      partition: raw.partition,
      offset: raw.offset,
      key: asText(raw.key),
      value: asBytes(raw.value),
      headers: headersAsText(raw.headers),
    };
    const entry = entryFromDlq(msg, this.clock.now());
    const trace = currentTraceContext();
    // Like the inbox: retry transient failures holding the partition; give up only when stopping, uncommitted.
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.append.execute({ ...entry, trace });
        this.logger.debug(
          { topic: msg.topic, partition: msg.partition, offset: msg.offset, seq: r.seq, event_type: entry.event_type },
          'dlq message recorded',
        );
        return;
      } catch (e) {
        if (this.shutdown.stopping) throw e;
        this.logger.error(
          { err: e, attempt, topic: msg.topic, offset: msg.offset },
          'recording dlq message failed; retrying',
        );
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }
}
