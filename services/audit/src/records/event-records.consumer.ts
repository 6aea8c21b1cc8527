import { KafkaInbox, PoisonMessageError } from '@countersign/bus';
import { BUS_LOGGER, rawMessageOf } from '@countersign/service-kit';
import type { AnyEnvelope } from '@countersign/contracts';
import { currentTraceContext } from '@countersign/telemetry';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { AppendRecordsUseCase } from './append-records.use-case';
import type { Logger } from 'pino';
import { entryFromEvent, UnrecordableInputError } from './core/audit-entry';
import { AUDIT_CONFIG, type AuditConfig } from '../config/audit-config';
import { RECORDED_TOPICS, type RecordedTopic } from './recorded-topics';

/** Every event topic except audit.recorded itself: each valid event becomes one audit record. */
@Controller()
export class EventRecordsConsumer {
  constructor(
    private readonly inbox: KafkaInbox,
    private readonly append: AppendRecordsUseCase,
    @Inject(AUDIT_CONFIG) private readonly settings: AuditConfig,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
  ) {}

  @EventPattern(RECORDED_TOPICS)
  onEvent(@Ctx() ctx: KafkaContext): Promise<void> {
    return this.record(ctx.getTopic() as RecordedTopic, ctx);
  }

  private async record(topic: RecordedTopic, ctx: KafkaContext): Promise<void> {
    const raw = rawMessageOf(ctx);
    await this.inbox.handle(topic, raw, async (event) => {
      // The inbox has validated it; the record keeps the JSON as it arrived, unknown fields included.
      const received: unknown = JSON.parse(Buffer.isBuffer(raw.value) ? raw.value.toString('utf8') : String(raw.value));
      let entry;
      try {
        entry = entryFromEvent(topic, event as AnyEnvelope, received, this.settings.recording);
      } catch (e) {
        if (e instanceof UnrecordableInputError) throw new PoisonMessageError(e.message);
        throw e;
      }
      const r = await this.append.execute({ ...entry, trace: currentTraceContext() });
      if (entry.signature === 'invalid' && !r.duplicate)
        this.logger.warn(
          { topic, event_id: event.event_id, seq: r.seq, reason: entry.signature_reason },
          'event recorded with an invalid signature',
        );
      this.logger.debug({ topic, event_id: event.event_id, seq: r.seq, duplicate: r.duplicate }, 'event recorded');
    });
  }
}
