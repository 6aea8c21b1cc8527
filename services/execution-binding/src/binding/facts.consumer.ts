import { KafkaInbox, type RawMessage } from '@countersign/bus';
import { rawMessageOf } from '@countersign/service-kit';
import { Topics } from '@countersign/contracts';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { RecordFactUseCase } from './record-fact.use-case';

/** The event as its producer sent it (the inbox has already checked it is valid JSON of its contract). */
function asSent(msg: RawMessage): Record<string, unknown> {
  const text = typeof msg.value === 'string' ? msg.value : (msg.value?.toString('utf8') ?? 'null');
  return JSON.parse(text) as Record<string, unknown>;
}

/** The three facts of a job: parse (the inbox), then hand off. */
@Controller()
export class FactsConsumer {
  constructor(
    private readonly inbox: KafkaInbox,
    private readonly recordFact: RecordFactUseCase,
  ) {}

  @EventPattern(Topics.JobProposed)
  async onJobProposed(@Ctx() ctx: KafkaContext): Promise<void> {
    const msg = rawMessageOf(ctx);
    await this.inbox.handle(Topics.JobProposed, msg, (event) => this.recordFact.proposal(event, asSent(msg)));
  }

  @EventPattern(Topics.DecisionMade)
  async onDecisionMade(@Ctx() ctx: KafkaContext): Promise<void> {
    const msg = rawMessageOf(ctx);
    await this.inbox.handle(Topics.DecisionMade, msg, (event) => this.recordFact.decision(event, asSent(msg)));
  }

  @EventPattern(Topics.ApprovalResolved)
  async onApprovalResolved(@Ctx() ctx: KafkaContext): Promise<void> {
    const msg = rawMessageOf(ctx);
    await this.inbox.handle(Topics.ApprovalResolved, msg, (event) => this.recordFact.resolution(event, asSent(msg)));
  }
}
