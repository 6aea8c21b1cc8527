import { KafkaInbox } from '@countersign/bus';
import { rawMessageOf } from '@countersign/service-kit';
import { Topics } from '@countersign/contracts';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { IntakeDecisionUseCase } from './intake-decision.use-case';
import { IntakeProposalUseCase } from './intake-proposal.use-case';

/** A job's two events in, each through the shared inbox; intake takes them in either order. */
@Controller()
export class IntakeConsumer {
  constructor(
    private readonly inbox: KafkaInbox,
    private readonly proposals: IntakeProposalUseCase,
    private readonly decisions: IntakeDecisionUseCase,
  ) {}

  @EventPattern(Topics.JobProposed)
  async onJobProposed(@Ctx() ctx: KafkaContext): Promise<void> {
    await this.inbox.handle(Topics.JobProposed, rawMessageOf(ctx), (event) => this.proposals.execute(event));
  }

  @EventPattern(Topics.DecisionMade)
  async onDecisionMade(@Ctx() ctx: KafkaContext): Promise<void> {
    await this.inbox.handle(Topics.DecisionMade, rawMessageOf(ctx), (event) => this.decisions.execute(event));
  }
}
