import { KafkaInbox } from '@countersign/bus';
import { rawMessageOf } from '@countersign/service-kit';
import { Topics } from '@countersign/contracts';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { IntakeDecisionUseCase } from './intake-decision.use-case';

@Controller()
export class DecisionMadeConsumer {
  constructor(
    private readonly inbox: KafkaInbox,
    private readonly intake: IntakeDecisionUseCase,
  ) {}

  @EventPattern(Topics.DecisionMade)
  async onDecisionMade(@Ctx() ctx: KafkaContext): Promise<void> {
    await this.inbox.handle(Topics.DecisionMade, rawMessageOf(ctx), (event) => this.intake.execute(event));
  }
}
