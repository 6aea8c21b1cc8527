import { KafkaInbox } from '@countersign/bus';
import { rawMessageOf } from '@countersign/service-kit';
import { Topics } from '@countersign/contracts';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { IntakeProposalUseCase } from './intake-proposal.use-case';

@Controller()
export class JobProposedConsumer {
  constructor(
    private readonly inbox: KafkaInbox,
    private readonly intake: IntakeProposalUseCase,
  ) {}

  @EventPattern(Topics.JobProposed)
  async onJobProposed(@Ctx() ctx: KafkaContext): Promise<void> {
    await this.inbox.handle(Topics.JobProposed, rawMessageOf(ctx), (event) => this.intake.execute(event));
  }
}
